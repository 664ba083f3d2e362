"""order-review's use cases: intake of webhook orders (intake.py), the operators' contact,
correction and cancellation (operator.py), accepting a finding (acceptance.py). Each runs in
its own unit of work and commits once."""
