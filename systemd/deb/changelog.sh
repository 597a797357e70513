#!/bin/sh
# Prints the package's changelog (Debian format; a native package ships it
# as /usr/share/doc/earshot/changelog.gz).
#   changelog.sh VERSION MAINTAINER COMMIT COMMIT_EPOCH
# One entry per build: the history is the git log of the source.
set -eu
version=$1
maintainer=$2
commit=$3
when=$(LC_ALL=C date -u -R -d "@$4")
cat <<CHANGELOG
earshot ($version) unstable; urgency=medium

  * Build of commit $commit of https://github.com/earshot/earshot; its git
    history is the record of changes.

 -- $maintainer  $when
CHANGELOG
