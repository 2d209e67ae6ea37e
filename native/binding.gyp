{
  "targets": [
    {
      "target_name": "outpost_schnorr",
      "sources": ["src/schnorr.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"],
      "libraries": ["-lsecp256k1"],
      "ldflags": ["-Wl,-z,now"]
    }
  ]
}
