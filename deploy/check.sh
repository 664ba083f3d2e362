#!/usr/bin/env bash
# Validates everything under deploy/ offline; exits non-zero if any check fails.
#
#   bash deploy/check.sh
#
# Installs nothing. Needs: promtool (Debian package prometheus), amtool
# (prometheus-alertmanager), docker-compose (docker-compose; or the `docker compose` plugin),
# kubectl (built-in kustomize), and kubernetes-validate (.venv/bin/kubernetes-validate, a dev
# dependency, else the one on PATH; KUBERNETES_VALIDATE=/path/to/it to choose).
# KUBERNETES_VERSION (default 1.32.0) is the API version the manifests are validated against.
set -uo pipefail

cd "$(dirname "$0")/.."
DEPLOY=deploy
PYTHON="${PYTHON:-$([[ -x .venv/bin/python ]] && echo .venv/bin/python || echo python3)}"
if [[ -z "${KUBERNETES_VALIDATE:-}" ]]; then
  KUBERNETES_VALIDATE=.venv/bin/kubernetes-validate
  if [[ ! -x "$KUBERNETES_VALIDATE" ]] && command -v kubernetes-validate > /dev/null 2>&1; then
    KUBERNETES_VALIDATE="$(command -v kubernetes-validate)"
  fi
fi
KUBERNETES_VERSION="${KUBERNETES_VERSION:-1.32.0}"

passed=()
failed=()

# run NAME COMMAND...: runs one check, shows its output indented, records the result.
run() {
  local name="$1"
  shift
  printf '\n==> %s\n    $ %s\n' "$name" "$*"
  local output status
  output="$("$@" 2>&1)"
  status=$?
  if [[ -n "$output" ]]; then
    printf '%s\n' "$output" | sed 's/^/    /'
  fi
  if ((status == 0)); then
    printf -- '--- PASS: %s\n' "$name"
    passed+=("$name")
  else
    printf -- '--- FAIL: %s (exit %d)\n' "$name" "$status"
    failed+=("$name")
  fi
}

# need TOOL HINT: true if TOOL runs; otherwise records a failure that says how to get it.
need() {
  if command -v "$1" > /dev/null 2>&1 || [[ -x "$1" ]]; then
    return 0
  fi
  printf '\n==> %s\n--- FAIL: %s not found (%s)\n' "$1" "$1" "$2"
  failed+=("$1 missing")
  return 1
}

compose() {
  if command -v docker-compose > /dev/null 2>&1; then
    docker-compose "$@"
  else
    docker compose "$@"
  fi
}

kustomize_validate() {
  local overlay="$1" manifests
  manifests="$(kubectl kustomize "$overlay")" || return 1
  printf '%s\n' "$manifests" \
    | "$KUBERNETES_VALIDATE" --strict --quiet --kubernetes-version "$KUBERNETES_VERSION" - \
    || return 1
  printf '%s resources valid against Kubernetes %s\n' \
    "$(grep -c '^kind:' <<< "$manifests")" "$KUBERNETES_VERSION"
}

echo "lvyue deploy checks ($(pwd)/$DEPLOY)"

if need promtool "apt-get install prometheus"; then
  run "prometheus config" promtool check config "$DEPLOY/prometheus/prometheus.yml"
  run "prometheus rules" promtool check rules "$DEPLOY"/prometheus/rules/*.yml
  run "prometheus rule unit tests" promtool test rules "$DEPLOY"/prometheus/tests/*.test.yml
fi

if need amtool "apt-get install prometheus-alertmanager"; then
  run "alertmanager config" amtool check-config "$DEPLOY/alertmanager/alertmanager.yml"
  run "alertmanager routes" bash "$DEPLOY/alertmanager/test-routes.sh"
fi

run "grafana dashboards match generate.py" "$PYTHON" "$DEPLOY/grafana/generate.py" --check

if command -v docker-compose > /dev/null 2>&1 || need docker "apt-get install docker-compose"; then
  run "compose file" compose -f "$DEPLOY/compose.yaml" config -q
fi

if need kubectl "kubectl with built-in kustomize" \
  && need "$KUBERNETES_VALIDATE" "the kubernetes-validate dev dependency, or set KUBERNETES_VALIDATE"; then
  for overlay in "$DEPLOY"/k8s/overlays/*/; do
    run "kubernetes overlay $(basename "$overlay")" kustomize_validate "${overlay%/}"
  done
fi

printf '\n%d passed, %d failed\n' "${#passed[@]}" "${#failed[@]}"
if ((${#failed[@]} > 0)); then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "all deploy checks passed"
