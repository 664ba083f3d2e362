from lvyue.aftersales.tables import metadata
from lvyue.common.migrate import run_env

run_env(metadata)
