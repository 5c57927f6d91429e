#!/usr/bin/env bash
# The pull-request check, shared by the GitHub Action (action.yml) and the
# GitLab CI template (docs/ci/gitlab-ci.yml):
#
#   hack/ci/pr-check.sh github|gitlab
#
# It runs ONE `kubectl c5c3 diff` of the checkout against the PR's base
# (--base = the merge base of the PR's base branch and HEAD), writes the
# self-contained HTML report for the CI artifact and publishes the markdown
# report as the PR's sticky comment plus the commit status c5c3/diff.
#
# Environment (all optional but the CI's own variables):
#   KUBECTL_C5C3   the plugin binary (default: kubectl-c5c3 on PATH)
#   C5C3_REPO      the gitops checkout (default: .)
#   C5C3_BASE      the base ref (default: GitHub origin/$GITHUB_BASE_REF,
#                  GitLab $CI_MERGE_REQUEST_DIFF_BASE_SHA)
#   C5C3_REPORT    the HTML report file (default: c5c3-diff.html)
#   C5C3_ARGS      more diff arguments, split on spaces (e.g. "--no-live",
#                  "--fail-on-danger", "control-plane")
#   KUBECONFIG     the hub (not needed with --no-live)
# plus the variables diff --publish reads (see docs/ci-check.md).
#
# Exit: 0 when the check ran and was published (the verdict is the commit
# status c5c3/diff, for branch protection to require), 2 when the diff or
# the publishing failed.
set -euo pipefail

provider=${1:?usage: pr-check.sh github|gitlab}
bin=${KUBECTL_C5C3:-kubectl-c5c3}
repo=${C5C3_REPO:-.}
report=${C5C3_REPORT:-c5c3-diff.html}

base=${C5C3_BASE:-}
if [[ -z $base ]]; then
  case $provider in
    github) base=${GITHUB_BASE_REF:+origin/$GITHUB_BASE_REF} ;;
    gitlab) base=${CI_MERGE_REQUEST_DIFF_BASE_SHA:-} ;;
    *) echo "pr-check: unknown provider $provider: use github or gitlab" >&2; exit 2 ;;
  esac
fi
if [[ -z $base ]]; then
  echo "pr-check: no base: set C5C3_BASE (not a pull request or merge request pipeline?)" >&2
  exit 2
fi
# Compare against the merge base, so that commits on the base branch since
# the PR was opened do not show up as its changes.
if mb=$(git -C "$repo" merge-base "$base" HEAD 2>/dev/null); then
  base=$mb
fi

read -r -a extra <<<"${C5C3_ARGS:-}"
rc=0
"$bin" diff --repo "$repo" --base "$base" -o html --publish "$provider" "${extra[@]}" >"$report" || rc=$?
echo "pr-check: diff against ${base:0:12} exited $rc; HTML report in $report" >&2
# 0: no changes, 1: changes (or danger flags with --fail-on-danger); the
# commit status carries the verdict. 2: the check itself failed.
if [[ $rc -ge 2 ]]; then
  exit 2
fi
exit 0
