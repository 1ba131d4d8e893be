# Shared by the commit hooks in this folder (sourced, not run).
#
# Settings come from the environment (a hook's wrapper sets them):
#   BUILDBOT_MASTER              HOST:PORT of the master's slave_port (required)
#   BUILDBOT_AUTH                USER:PASSWORD of a user that may sendchange (required)
#   BUILDBOT_MASTER_FINGERPRINT  SHA256:... (`buildmaster fingerprint DIR`), or
#   BUILDBOT_PLAINTEXT=1         for a master with tls: false
#   BUILDBOT_CLIENT              the buildbot client (default: buildbot in PATH)
#   BUILDBOT_REPOSITORY          recorded as the change's repository
#   BUILDBOT_PROJECT, BUILDBOT_CATEGORY  recorded on the change
# Every value reaches `buildbot sendchange` as one argument in --opt=VALUE
# form and the files after `--`, so nothing from a commit (a branch `-x`,
# a file `--help`) can be read as an option, and no shell sees it.

: "${BUILDBOT_MASTER:?set BUILDBOT_MASTER=HOST:PORT}"
: "${BUILDBOT_AUTH:?set BUILDBOT_AUTH=USER:PASSWORD}"
BUILDBOT_CLIENT=${BUILDBOT_CLIENT:-buildbot}

# buildbot_sendchange BRANCH REVISION AUTHOR COMMENTS [FILE...]
buildbot_sendchange() {
  local branch=$1 revision=$2 author=$3 comments=$4
  shift 4
  local args=(sendchange "--revision=$revision" "--who=$author" "--comments=$comments")
  # An empty branch (the default one, e.g. CVS's trunk) is no --branch at all.
  [ -n "$branch" ] && args+=("--branch=$branch")
  [ -n "${BUILDBOT_REPOSITORY:-}" ] && args+=("--repository=$BUILDBOT_REPOSITORY")
  [ -n "${BUILDBOT_PROJECT:-}" ] && args+=("--project=$BUILDBOT_PROJECT")
  [ -n "${BUILDBOT_CATEGORY:-}" ] && args+=("--category=$BUILDBOT_CATEGORY")
  local conn=()
  if [ "${BUILDBOT_PLAINTEXT:-}" = 1 ]; then conn=(--plaintext); fi
  if ! "$BUILDBOT_CLIENT" "${conn[@]}" "${args[@]}" -- "$@"; then
    echo "buildbot hook: sendchange of $revision on '$branch' failed" >&2
    return 1
  fi
}
