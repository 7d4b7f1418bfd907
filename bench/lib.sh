# Shared by the bench/ scripts: where the real data is, and installing what a script needs.
# Source it: `. "$(dirname "$0")/lib.sh"`.

# The third-party data (feeds, page sets, tools): $WIREFEED_DATA, else ../shared/data.
data="${WIREFEED_DATA:-../shared/data}"
tools="$data/../tools"

# need_data SUBFOLDER: exits 2 with a message unless the real data holds SUBFOLDER.
need_data() {
    if [ ! -e "$data/$1" ]; then
        echo "$(basename "$0"): no $1 under $data (set WIREFEED_DATA to the data folder)" >&2
        exit 2
    fi
}

# need_py "IMPORTS" PACKAGE...: installs the PyPI packages unless `import IMPORTS` already works.
# pip where it may install, else with --break-system-packages (Debian's managed Python).
need_py() {
    local imports=$1; shift
    python3 -c "import $imports" 2>/dev/null && return 0
    echo "$(basename "$0"): installing $*" >&2
    python3 -m pip install --quiet "$@" 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages "$@"
    python3 -c "import $imports"
}

# need_apt COMMAND PACKAGE...: installs the Debian packages unless COMMAND is on the PATH.
need_apt() {
    local cmd=$1; shift
    command -v "$cmd" >/dev/null 2>&1 && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$@"
}
