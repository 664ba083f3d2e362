from lvyue.cli.main import app

app()
