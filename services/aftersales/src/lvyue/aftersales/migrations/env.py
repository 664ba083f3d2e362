from lvyue.common.migrate import run_env
from lvyue.aftersales.tables import metadata

run_env(metadata)
