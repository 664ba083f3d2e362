#!/usr/bin/env bash
# Routing tests for alertmanager.yml: each case is "expected receiver" then an alert's labels.
# Usage: deploy/alertmanager/test-routes.sh   (needs amtool; exits non-zero on any mismatch)
set -uo pipefail
config="$(dirname "$0")/alertmanager.yml"
failures=0

expect() {
  local want="$1"
  shift
  local got errors
  errors="$(mktemp)"
  # stdout is the receiver list; stderr only carries amtool's notes and errors
  if ! got="$(amtool config routes test --config.file="$config" --verify.receivers="$want" \
    "$@" 2>"$errors")"; then
    echo "FAIL  $* -> ${got:-no receiver} (expected $want) $(cat "$errors")"
    failures=$((failures + 1))
  elif [[ "$got" != "$want" ]]; then
    echo "FAIL  $* -> $got (expected $want)"
    failures=$((failures + 1))
  else
    echo "ok    $* -> $got"
  fi
  rm -f "$errors"
}

expect pager alertname=LvyueSLAFastBurn severity=page sla=abnormal_contact_2h slo=fulfilment_rate_98
expect pager alertname=LvyueSLASlowBurn severity=page sla=dispatch_1600 slo=fulfilment_rate_98
expect pager alertname=LvyueDispatchCutoffAtRisk severity=page sla=dispatch_1600 warehouse=WH-SH-01
expect pager alertname=LvyueSLAOverdueNotClosed severity=page sla=refund_48h
expect pager alertname=LvyueOutboxStuck severity=page job=inventory
expect pager alertname=LvyueServiceDown severity=page job=order-review
expect ticket alertname=LvyueSLABudgetErosion severity=ticket sla=outbound_24h slo=fulfilment_rate_98
expect ticket alertname=LvyueSLAAtRisk severity=ticket sla=abnormal_contact_2h
expect ticket alertname=LvyueConsumerLagHigh severity=ticket job=inventory consumer=inventory topic=order.created
expect ticket alertname=LvyueDeadLettersIncreasing severity=ticket job=fulfilment topic=order.reviewed
expect ticket alertname=LvyueWorkingCalendarFallback severity=ticket year=2027
# a rule without a severity still reaches someone
expect ticket alertname=SomethingNew

if ((failures > 0)); then
  echo "$failures routing case(s) failed"
  exit 1
fi
echo "all routing cases passed"
