/*
 * outpost_schnorr: BIP-340 Schnorr verification for Nostr events via the system
 * libsecp256k1 (>= 0.2.0, schnorrsig module). Plain C against node_api.h so it needs
 * no npm dependencies and builds offline.
 *
 * Exports:
 *   verify(msg32, pubkey32, sig64) -> boolean
 *   verifyBatch(records, n) -> Buffer(n)   records: n * (32 msg | 32 xonly pubkey | 64 sig)
 *   sign(msg32, seckey32[, aux32]) -> Buffer(64)   (bench/test helper)
 */
#include <node_api.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#define RECORD_SIZE 128

/* One process-wide context shared by every worker thread: verification only reads it,
 * and pthread_once makes creation race-free when several threads load the addon. */
static secp256k1_context *ctx = NULL;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void create_ctx (void) {
  ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  if (ctx == NULL) return;
  /* Randomize once for side-channel protection of sign(); verify does not need it. */
  unsigned char seed[32];
  if (getrandom(seed, sizeof seed, 0) == (ssize_t)sizeof seed) {
    if (!secp256k1_context_randomize(ctx, seed)) { /* keep the unrandomized context */ }
  }
  memset(seed, 0, sizeof seed);
}

static int verify_one (const unsigned char *msg32, const unsigned char *pub32, const unsigned char *sig64) {
  secp256k1_xonly_pubkey pk;
  /* Not-on-curve / out-of-range keys fail to parse: invalid, never a crash. */
  if (!secp256k1_xonly_pubkey_parse(ctx, &pk, pub32)) return 0;
  return secp256k1_schnorrsig_verify(ctx, sig64, msg32, 32, &pk);
}

static napi_value throw_type (napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/* Reads a Buffer/Uint8Array argument of exactly `len` bytes (len 0 = any length). */
static int get_bytes (napi_env env, napi_value v, size_t len, unsigned char **data, size_t *out_len) {
  bool is;
  void *p = NULL;
  size_t n = 0;
  if (napi_is_buffer(env, v, &is) == napi_ok && is) {
    if (napi_get_buffer_info(env, v, &p, &n) != napi_ok) return 0;
  } else if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type t;
    if (napi_get_typedarray_info(env, v, &t, &n, &p, NULL, NULL) != napi_ok) return 0;
    if (t != napi_uint8_array) return 0;
  } else {
    return 0;
  }
  if (len != 0 && n != len) return 0;
  *data = (unsigned char *)p;
  if (out_len) *out_len = n;
  return 1;
}

static napi_value js_verify (napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  unsigned char *msg, *pub, *sig;
  napi_value out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 3) return throw_type(env, "verify(msg32, pubkey32, sig64) needs 3 arguments");
  if (!get_bytes(env, argv[0], 32, &msg, NULL)) return throw_type(env, "msg32 must be a 32-byte Buffer");
  if (!get_bytes(env, argv[1], 32, &pub, NULL)) return throw_type(env, "pubkey32 must be a 32-byte Buffer");
  if (!get_bytes(env, argv[2], 64, &sig, NULL)) return throw_type(env, "sig64 must be a 64-byte Buffer");
  napi_get_boolean(env, verify_one(msg, pub, sig) == 1, &out);
  return out;
}

static napi_value js_verify_batch (napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  unsigned char *recs, *res;
  size_t len;
  int64_t n;
  napi_valuetype vt;
  napi_value out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2) return throw_type(env, "verifyBatch(records, n) needs 2 arguments");
  if (!get_bytes(env, argv[0], 0, &recs, &len)) return throw_type(env, "records must be a Buffer or Uint8Array");
  if (napi_typeof(env, argv[1], &vt) != napi_ok || vt != napi_number) return throw_type(env, "n must be a number");
  if (napi_get_value_int64(env, argv[1], &n) != napi_ok || n < 0) return throw_type(env, "n must be a non-negative integer");
  if ((uint64_t)n > len / RECORD_SIZE) return throw_type(env, "records is shorter than n * 128 bytes");
  if (napi_create_buffer(env, (size_t)n, (void **)&res, &out) != napi_ok) return NULL;
  for (int64_t i = 0; i < n; i++) {
    const unsigned char *r = recs + (size_t)i * RECORD_SIZE;
    res[i] = (unsigned char)(verify_one(r, r + 32, r + 64) == 1);
  }
  return out;
}

static napi_value js_sign (napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  unsigned char *msg, *sk, *aux = NULL, *sig;
  unsigned char rnd[32];
  secp256k1_keypair kp;
  napi_valuetype vt = napi_undefined;
  napi_value out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2) return throw_type(env, "sign(msg32, seckey32[, aux32]) needs 2 arguments");
  if (!get_bytes(env, argv[0], 32, &msg, NULL)) return throw_type(env, "msg32 must be a 32-byte Buffer");
  if (!get_bytes(env, argv[1], 32, &sk, NULL)) return throw_type(env, "seckey32 must be a 32-byte Buffer");
  if (argc >= 3) napi_typeof(env, argv[2], &vt);
  if (vt != napi_undefined && vt != napi_null) {
    if (!get_bytes(env, argv[2], 32, &aux, NULL)) return throw_type(env, "aux32 must be a 32-byte Buffer");
  } else {
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) memset(rnd, 0, sizeof rnd);
    aux = rnd;
  }
  if (!secp256k1_keypair_create(ctx, &kp, sk)) {
    napi_throw_error(env, NULL, "invalid secret key");
    return NULL;
  }
  if (napi_create_buffer(env, 64, (void **)&sig, &out) != napi_ok) return NULL;
  int ok = secp256k1_schnorrsig_sign32(ctx, sig, msg, &kp, aux);
  memset(&kp, 0, sizeof kp);
  if (!ok) {
    napi_throw_error(env, NULL, "signing failed");
    return NULL;
  }
  return out;
}

NAPI_MODULE_INIT () {
  napi_value fn;
  pthread_once(&ctx_once, create_ctx);
  if (ctx == NULL) {
    napi_throw_error(env, NULL, "secp256k1_context_create failed");
    return NULL;
  }
  napi_create_function(env, "verify", NAPI_AUTO_LENGTH, js_verify, NULL, &fn);
  napi_set_named_property(env, exports, "verify", fn);
  napi_create_function(env, "verifyBatch", NAPI_AUTO_LENGTH, js_verify_batch, NULL, &fn);
  napi_set_named_property(env, exports, "verifyBatch", fn);
  napi_create_function(env, "sign", NAPI_AUTO_LENGTH, js_sign, NULL, &fn);
  napi_set_named_property(env, exports, "sign", fn);
  return exports;
}
