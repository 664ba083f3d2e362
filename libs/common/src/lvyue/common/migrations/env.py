from lvyue.common.migrate import run_env
from lvyue.common.tables import kernel_metadata

run_env(kernel_metadata)
