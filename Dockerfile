# reconbot in a container: `docker build -t reconbot .` then
#   docker run --rm -p 127.0.0.1:8000:8000 -v reconbot-data:/data reconbot     # the panel on http://127.0.0.1:8000
#   docker run --rm -v reconbot-data:/data reconbot demo
#   docker run --rm -v reconbot-data:/data -v "$PWD:/files" reconbot import /files/statement.xml
# With PostgreSQL: -e RECONBOT_DATABASE_URL=postgresql://user:password@host/db
# Behind a TLS proxy: -e RECONBOT_PUBLIC_URL=https://reconbot.example.com (cookies then become Secure)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RECONBOT_DATA_DIR=/data \
    RECONBOT_LISTEN=0.0.0.0:8000

WORKDIR /app
COPY pyproject.toml README.md ./
COPY core core
COPY bot bot
COPY handlers handlers
COPY admin admin
COPY reconbot reconbot
RUN pip install '.[postgres]' \
    && useradd --system --create-home --home-dir /home/reconbot reconbot \
    && mkdir -p /data && chown reconbot /data

USER reconbot
VOLUME ["/data"]
EXPOSE 8000
ENTRYPOINT ["reconbot"]
CMD ["run"]
