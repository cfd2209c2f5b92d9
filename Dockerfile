# ikegw container: needs --cap-add NET_ADMIN --device /dev/net/tun and the host's (or a
# dedicated) network namespace. Example:
#   docker run --rm --cap-add NET_ADMIN --device /dev/net/tun --network host \
#     -v /etc/ikegw:/etc/ikegw:ro ikegw -c /etc/ikegw/ikegw.yaml
FROM node:20-bookworm AS build
WORKDIR /app
# build the native addon against the image's own Node headers (nothing downloaded)
ENV npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
COPY native ./native
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends iproute2 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/native/build/Release/ikegw_native.node ./native/build/Release/ikegw_native.node
ENTRYPOINT ["node", "dist/src/main.js"]
CMD ["-c", "/etc/ikegw/ikegw.yaml"]
