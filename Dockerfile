# The web app in a container: `docker build -t optimizer-visualizer . &&
# docker run -p 8501:8501 optimizer-visualizer`. CPU JAX; for GPUs see README "Serving a class".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

# Installed as a package (not editable): the wheel carries the animator's component files and
# the app's Streamlit settings, so the sources are not needed at run time.
WORKDIR /tmp/optviz-src
COPY pyproject.toml setup.py README.md ./
COPY app app
COPY optimizers optimizers
COPY surfaces surfaces
COPY trajectories trajectories
COPY optviz optviz
RUN pip install . && rm -rf /tmp/optviz-src

# Never run as root inside the container.
RUN useradd --create-home --uid 10001 viz
USER viz
WORKDIR /home/viz

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"
CMD ["python", "-m", "app.serve", "--server.address=0.0.0.0", "--server.port=8501"]
