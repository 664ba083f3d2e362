from lvyue.aftersales.main import run

run()
