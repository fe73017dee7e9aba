# Sourced by the install-*.sh scripts: install Debian packages for a test or a feature, or say how.
#   apt_install_or_say WHAT SKIP_HINT PACKAGE...
# As root with apt-get it installs the packages (retrying after an `apt-get update`); otherwise it says
# how, on stderr. It returns 0 once they are installed. Otherwise it fails under FACESTREAM_REQUIRE_ALL
# (CI demands every test run: a missing tool is a failure there, not a skip) and returns 0 elsewhere.
apt_install_or_say() {
  local what=$1 skip_hint=$2
  shift 2
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing $what (apt-get; $skip_hint to do without)"
    if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 ||
       { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }; then
      return 0
    fi
    echo "could not install $*: $what will be missing" >&2
  else
    echo "note: $what is missing (sudo apt-get install $*)" >&2
  fi
  [ "${FACESTREAM_REQUIRE_ALL:-0}" = 0 ]
}
