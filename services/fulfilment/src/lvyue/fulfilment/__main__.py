from lvyue.fulfilment.main import run

run()
