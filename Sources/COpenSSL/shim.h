#ifndef INLET_COPENSSL_SHIM_H
#define INLET_COPENSSL_SHIM_H
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/err.h>
#include <openssl/sha.h>

/* ---- JWT / JWKS helpers (Auth0 module): RSA public keys from JWK n/e or x5c. ---- */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

/* An RSA public key from the big-endian bytes of its modulus and exponent (JWK `n`, `e`),
 * built with OSSL_PARAM_BLD + EVP_PKEY_fromdata. The BIGNUMs and the parameter array live
 * only inside this function, so nothing points into Swift memory once it returns.
 * Returns NULL on failure (the OpenSSL error queue says why). */
static inline EVP_PKEY *COpenSSL_RSA_public_key_from_n_e(
    const unsigned char *n, size_t n_len, const unsigned char *e, size_t e_len) {
    EVP_PKEY *pkey = NULL;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    if (n == NULL || e == NULL || n_len == 0 || e_len == 0 || n_len > 2048 || e_len > 64) return NULL;
    bn_n = BN_bin2bn(n, (int)n_len, NULL);
    bn_e = BN_bin2bn(e, (int)e_len, NULL);
    if (bn_n == NULL || bn_e == NULL) goto done;
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL) goto done;
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n)) goto done;
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)) goto done;
    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL) goto done;
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (ctx == NULL) goto done;
    if (EVP_PKEY_fromdata_init(ctx) <= 0) goto done;
    if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) pkey = NULL;
done:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return pkey;
}

/* The public key of a DER X.509 certificate (a JWK `x5c` entry, base64-decoded).
 * The whole buffer must be one certificate. Returns NULL on failure. */
static inline EVP_PKEY *COpenSSL_X509_public_key_from_der(const unsigned char *der, size_t der_len) {
    const unsigned char *cursor = der;
    X509 *certificate;
    EVP_PKEY *pkey;
    if (der == NULL || der_len == 0 || der_len > 65536) return NULL;
    certificate = d2i_X509(NULL, &cursor, (long)der_len);
    if (certificate == NULL) return NULL;
    if (cursor != der + der_len) {
        X509_free(certificate);
        return NULL;
    }
    pkey = X509_get_pubkey(certificate);
    X509_free(certificate);
    return pkey;
}

/* 1 when `pkey` is an RSA key. */
static inline int COpenSSL_EVP_PKEY_is_rsa(const EVP_PKEY *pkey) {
    return pkey != NULL && EVP_PKEY_is_a(pkey, "RSA");
}

/* A verification context for RSASSA-PKCS1-v1_5 over a digest made with `md`, ready for
 * repeated COpenSSL_RSA_verify_digest calls (one thread at a time). NULL on failure. */
static inline EVP_PKEY_CTX *COpenSSL_RSA_pkcs1_verify_context(EVP_PKEY *pkey, const EVP_MD *md) {
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
    if (ctx == NULL) return NULL;
    if (EVP_PKEY_verify_init(ctx) <= 0
        || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0
        || EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0) {
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* Hashes `data` with `md` on a reusable digest context into `out` (EVP_MAX_MD_SIZE bytes);
 * returns the digest length, or 0 on failure. */
static inline unsigned int COpenSSL_digest(
    EVP_MD_CTX *ctx, const EVP_MD *md, const void *data, size_t data_len, unsigned char *out) {
    unsigned int length = 0;
    if (EVP_DigestInit_ex(ctx, md, NULL) != 1) return 0;
    if (EVP_DigestUpdate(ctx, data, data_len) != 1) return 0;
    if (EVP_DigestFinal_ex(ctx, out, &length) != 1) return 0;
    return length;
}

/* 1 when `signature` is a valid signature of `digest` under the context's key; 0 when it
 * is not; negative on error. */
static inline int COpenSSL_RSA_verify_digest(
    EVP_PKEY_CTX *ctx, const unsigned char *signature, size_t signature_len,
    const unsigned char *digest, size_t digest_len) {
    return EVP_PKEY_verify(ctx, signature, signature_len, digest, digest_len);
}
#endif
