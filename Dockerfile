# Mizzen's image: one image for the control plane (mizzen server), the sidecar and gateway proxy
# (mizzen proxy) and the injected init step (iptables-restore), as `mizzen install` and
# `mizzen kube-inject` use it. Build: docker build -t mizzen/mizzen:0.1.0 .
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY bench ./bench
COPY test ./test
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
# iptables: the istio-init container loads the capture rules; wget: holdApplicationUntilProxyStarts waits with it.
RUN apt-get update \
  && apt-get install -y --no-install-recommends iptables wget \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/mizzen
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
RUN chmod +x bin/mizzen.js && ln -s /opt/mizzen/bin/mizzen.js /usr/local/bin/mizzen
# Istio's proxy uid/gid: the capture rules let this user's traffic through uncaptured.
USER 1337:1337
ENTRYPOINT ["mizzen"]
