#!/usr/bin/env bash
# Mercurial hook: one `buildbot sendchange` per new changeset, with its
# named branch, node id, author, description and files. Use it as a
# changegroup hook (push/pull into the repository: every changeset from
# HG_NODE to HG_NODE_LAST) or a commit hook (HG_NODE only), in the
# repository's .hg/hgrc; settings as in buildbot_hook_common.sh:
#
#   [hooks]
#   changegroup.buildbot = BUILDBOT_MASTER=... BUILDBOT_AUTH=... /usr/local/share/buildbot-cpp/contrib/hg_buildbot.sh
#   commit.buildbot = ...same...
set -euo pipefail
: "${HG_NODE:?run this as a Mercurial changegroup or commit hook}"
. "$(dirname "$0")/buildbot_hook_common.sh"
export HGPLAIN=1
last=${HG_NODE_LAST:-$HG_NODE}
status=0
while IFS= read -r node; do
  # branch, author, description, then the files: NUL-separated.
  mapfile -d '' f < <(hg log --rev "$node" --template '{branch}\0{author}\0{desc}\0{join(files, "\0")}')
  buildbot_sendchange "${f[0]}" "$node" "${f[1]}" "${f[2]}" "${f[@]:3}" || status=1
done < <(hg log --rev "$HG_NODE:$last" --template '{node}\n')
exit $status
