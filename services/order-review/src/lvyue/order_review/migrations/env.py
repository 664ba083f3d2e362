from lvyue.common.migrate import run_env
from lvyue.order_review.tables import metadata

run_env(metadata)
