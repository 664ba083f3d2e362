from lvyue.common.migrate import run_env
from lvyue.inventory.tables import metadata

run_env(metadata)
