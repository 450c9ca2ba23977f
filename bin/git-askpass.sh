#!/bin/sh
# GIT_ASKPASS for the engine's own pushes and fetches: the forge token comes from that one git's environment,
# never from argv or a file. GitHub takes any user name with a token as the password.
case "$1" in
  Username*) printf '%s\n' x-access-token ;;
  *) printf '%s\n' "$OXI_GIT_TOKEN" ;;
esac
