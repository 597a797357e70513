#!/bin/sh
# Prints the Debian version of an earshot build.
#   version.sh GIT_DESCRIBE COMMIT_TIME
# GIT_DESCRIBE is `git describe --always --dirty`; COMMIT_TIME the commit's
# time as YYYYMMDDHHMMSS (UTC). A release tag v1.2.3-4-gabc becomes
# 1.2.3+4+gabc. An untagged commit becomes 0~git<time>.<hash>, which sorts
# before any release and, unlike the hash alone, in the order the commits
# were made (0~gite8345f8 sorted after 0~git7412d3d, its successor).
set -eu
describe=$1
when=$2
case $describe in
v[0-9]*.* | [0-9]*.[0-9]*) echo "$describe" | sed -e 's/^v//' -e 's/-/+/g' ;;
*) echo "0~git$when.$describe" | sed -e 's/-/+/g' ;;
esac
