from lvyue.inventory.main import run

run()
