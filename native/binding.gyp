# ikegw native data path (N-API, node-addon-api). Built by `npm install` / `npm run build:native`.
# OpenSSL: headers from Node's own include/node/openssl; EVP_* symbols resolve against the
# node binary at load time (no libssl link).
{
  "targets": [
    {
      "target_name": "ikegw_native",
      "sources": ["src/addon.cc", "src/esp.cc", "src/tun.cc", "src/dataplane.cc", "src/netutil.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8", "OPENSSL_API_COMPAT=30000", "OPENSSL_NO_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-O3"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20", "-O3"],
      "cflags": ["-O2", "-Wall", "-Werror"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror", "-fexceptions", "-pthread"],
      "ldflags": ["-pthread"]
    }
  ]
}
