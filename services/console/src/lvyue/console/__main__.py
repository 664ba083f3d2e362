from lvyue.console.main import run

run()
