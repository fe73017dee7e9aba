# One image for every facestream service; the command picks which one runs
# (see docker-compose.yml). Build:  docker build -t facestream .
#
# PYTHON_IMAGE is the base: any Debian bookworm image with python3 and its venv
# module. The default is Docker Hub's; without access to it, make one from
# Debian's packages with scripts/docker-base-image.sh and build with
# --build-arg PYTHON_IMAGE=facestream-base:bookworm (what `make docker-check` does).
#
# DLIB_MARCH is the CPU level dlib is compiled for. The default, x86-64-v3,
# needs AVX2 and FMA (Intel Haswell / AMD Excavator, 2013-2015, and newer) on
# every machine that runs the image, and on the one that builds it (the last
# build step imports dlib). On an older CPU the service dies with "Illegal
# instruction"; build for it with --build-arg DLIB_MARCH=x86-64-v2 (SSE4.2) or
# x86-64 (any x86-64): slower encoding, still with OpenBLAS.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ARG DLIB_MARCH=x86-64-v3
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
# The Python headers come with python:3.11-slim; Debian's own python3 keeps them in python3-dev.
RUN if python3 -c 'import sys, sysconfig, os; sys.exit(not os.path.exists(sysconfig.get_path("include") + "/Python.h"))'; \
    then headers=; else headers=python3-dev; fi; \
    apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake libopenblas-dev liblapack-dev $headers \
 && rm -rf /var/lib/apt/lists/*

# A venv, so the runtime stage takes every Python package in one COPY and
# nothing built here (sdists such as face_recognition_models) needs a compiler
# there. Its pip is the one pip on every base (Debian's own python3 has none
# on PATH, and refuses installs outside a venv).
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# dlib first, so changing requirements.txt does not redo its build (10-20 minutes on 2 cores).
# Same flags as scripts/install-dlib.sh, which is not reused here: it hard-codes
# -march=x86-64-v3, decides from the build machine's CPU, and installs into a
# venv instead of leaving a wheel.
# dlib's setup.py also switches on AVX/SSE4 when the *build* machine has them,
# which would break a DLIB_MARCH=x86-64 image; the toolchain file (CMake reads
# CMAKE_TOOLCHAIN_FILE from the environment) turns those switches off, so
# -march alone sets the instruction set: dlib's SIMD code follows the
# compiler's __AVX__/__SSE4_1__ macros either way.
# -v puts CMake's output in the log, so the step fails if dlib did not find
# OpenBLAS (a BLAS-less dlib encodes ~5x slower).
RUN set -e; \
    printf 'set(USE_AVX_INSTRUCTIONS OFF CACHE BOOL "")\nset(USE_SSE4_INSTRUCTIONS OFF CACHE BOOL "")\n' \
      > /tmp/dlib-march-only.cmake; \
    if ! CMAKE_TOOLCHAIN_FILE=/tmp/dlib-march-only.cmake \
         CFLAGS="-O3 -march=${DLIB_MARCH}" CXXFLAGS="-O3 -march=${DLIB_MARCH}" \
         CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
         pip wheel --no-cache-dir --no-deps -v dlib==20.0.1 -w /wheels > /tmp/dlib-build.log 2>&1; then \
      tail -n 60 /tmp/dlib-build.log; exit 1; \
    fi; \
    if ! grep -q "Found OpenBLAS library" /tmp/dlib-build.log \
       || grep -q "will not use BLAS" /tmp/dlib-build.log; then \
      grep -i blas /tmp/dlib-build.log; echo "dlib was built without OpenBLAS" >&2; exit 1; \
    fi

COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt \
 && pip install --no-cache-dir --no-deps /wheels/dlib-*.whl face_recognition==1.3.0


FROM ${PYTHON_IMAGE} AS runtime
# The OpenBLAS/LAPACK runtime libraries the dlib wheel links against; fonts for names in every script.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libopenblas0 liblapack3 \
      fontconfig fonts-dejavu-core fonts-noto-core fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*

# UID 1000 is the usual first user on a Linux desktop, so files written to the
# bind-mounted ./data and ./faces stay the host user's. Override with --build-arg UID=$(id -u).
ARG UID=1000
RUN useradd --uid "${UID}" --user-group --create-home --shell /usr/sbin/nologin facestream \
 && mkdir -p /data /faces && chown facestream:facestream /data /faces

COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATA_DIR=/data \
    FACES_DIR=/faces

# The code stays root-owned: the services only write under /data and /faces.
WORKDIR /app
COPY . /app
RUN python -m compileall -q /app/services /app/shared

# By number, so a runtime (Kubernetes runAsNonRoot) can tell it is not root.
USER ${UID}
# face_recognition calls quit() (exit 0) when its models cannot load, so check
# for the printed line, not the exit code. Fails here rather than at first frame.
RUN test "$(python -c 'import face_recognition, dlib; print("blas" if dlib.DLIB_USE_BLAS else "noblas")')" = blas

VOLUME ["/data", "/faces"]
EXPOSE 8080 5550 5551 5552
CMD ["python", "-m", "services.web"]
