/*
 * kafs.auth._fcrypt: C accelerator for rxkad's fcrypt.
 *
 * Same functions, signatures and results as the pure-Python reference
 * kafs/auth/crypto/_fcrypt_py.py (the test suite checks both against the
 * same vectors and against each other); kafs.auth.crypto.fcrypt picks this
 * module when it was built and KAFS_NO_C is not set.
 *
 *   key_schedule(key) -> tuple of 16 ints
 *   ecb_encrypt(key, block) -> bytes      ecb_decrypt(key, block) -> bytes
 *   pcbc_encrypt(key, iv, data) -> bytes  (zero-padded to 8)
 *   pcbc_decrypt(key, iv, data) -> bytes  (len(data) % 8 == 0)
 *   header_checksum(key, pre_seq, call_number, cid, seq) -> int
 *
 * and two whole-packet rxkad helpers that the Python backend does not have
 * (kafs.auth.crypto.rxkad uses them when present; same results):
 *
 *   rxkad_seal(key, pre_seq, level, call, cid, seq0, payloads)
 *       -> [(wire, cksum), ...]   (crypt: four packets' PCBC chains interleaved)
 *   rxkad_unseal(key, pre_seq, level, call, cid, seq, wire, cksum, verify)
 *       -> bytes | negative int error
 *
 * Written from the description of fcrypt in protocol-notes section 2.7: a
 * 16-round Feistel cipher; F(x) = rotr5(S3[b3]<<24 | S2[b2]<<16 | S0[b0]<<8 |
 * S1[b1]), folded here into four 256-entry lane tables built at import.
 * The GIL is released while large buffers are processed.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* The four S-boxes (OpenAFS src/rxkad/sboxes.h data; same as _sboxes.py). */
static const uint8_t sbox0[256] = {
    0xea, 0x7f, 0xb2, 0x64, 0x9d, 0xb0, 0xd9, 0x11, 0xcd, 0x86, 0x86, 0x91,
    0x0a, 0xb2, 0x93, 0x06, 0x0e, 0x06, 0xd2, 0x65, 0x73, 0xc5, 0x28, 0x60,
    0xf2, 0x20, 0xb5, 0x38, 0x7e, 0xda, 0x9f, 0xe3, 0xd2, 0xcf, 0xc4, 0x3c,
    0x61, 0xff, 0x4a, 0x4a, 0x35, 0xac, 0xaa, 0x5f, 0x2b, 0xbb, 0xbc, 0x53,
    0x4e, 0x9d, 0x78, 0xa3, 0xdc, 0x09, 0x32, 0x10, 0xc6, 0x6f, 0x66, 0xd6,
    0xab, 0xa9, 0xaf, 0xfd, 0x3b, 0x95, 0xe8, 0x34, 0x9a, 0x81, 0x72, 0x80,
    0x9c, 0xf3, 0xec, 0xda, 0x9f, 0x26, 0x76, 0x15, 0x3e, 0x55, 0x4d, 0xde,
    0x84, 0xee, 0xad, 0xc7, 0xf1, 0x6b, 0x3d, 0xd3, 0x04, 0x49, 0xaa, 0x24,
    0x0b, 0x8a, 0x83, 0xba, 0xfa, 0x85, 0xa0, 0xa8, 0xb1, 0xd4, 0x01, 0xd8,
    0x70, 0x64, 0xf0, 0x51, 0xd2, 0xc3, 0xa7, 0x75, 0x8c, 0xa5, 0x64, 0xef,
    0x10, 0x4e, 0xb7, 0xc6, 0x61, 0x03, 0xeb, 0x44, 0x3d, 0xe5, 0xb3, 0x5b,
    0xae, 0xd5, 0xad, 0x1d, 0xfa, 0x5a, 0x1e, 0x33, 0xab, 0x93, 0xa2, 0xb7,
    0xe7, 0xa8, 0x45, 0xa4, 0xcd, 0x29, 0x63, 0x44, 0xb6, 0x69, 0x7e, 0x2e,
    0x62, 0x03, 0xc8, 0xe0, 0x17, 0xbb, 0xc7, 0xf3, 0x3f, 0x36, 0xba, 0x71,
    0x8e, 0x97, 0x65, 0x60, 0x69, 0xb6, 0xf6, 0xe6, 0x6e, 0xe0, 0x81, 0x59,
    0xe8, 0xaf, 0xdd, 0x95, 0x22, 0x99, 0xfd, 0x63, 0x19, 0x74, 0x61, 0xb1,
    0xb6, 0x5b, 0xae, 0x54, 0xb3, 0x70, 0xff, 0xc6, 0x3b, 0x3e, 0xc1, 0xd7,
    0xe1, 0x0e, 0x76, 0xe5, 0x36, 0x4f, 0x59, 0xc7, 0x08, 0x6e, 0x82, 0xa6,
    0x93, 0xc4, 0xaa, 0x26, 0x49, 0xe0, 0x21, 0x64, 0x07, 0x9f, 0x64, 0x81,
    0x9c, 0xbf, 0xf9, 0xd1, 0x43, 0xf8, 0xb6, 0xb9, 0xf1, 0x24, 0x75, 0x03,
    0xe4, 0xb0, 0x99, 0x46, 0x3d, 0xf5, 0xd1, 0x39, 0x72, 0x12, 0xf6, 0xba,
    0x0c, 0x0d, 0x42, 0x2e,
};
static const uint8_t sbox1[256] = {
    0x77, 0x14, 0xa6, 0xfe, 0xb2, 0x5e, 0x8c, 0x3e, 0x67, 0x6c, 0xa1, 0x0d,
    0xc2, 0xa2, 0xc1, 0x85, 0x6c, 0x7b, 0x67, 0xc6, 0x23, 0xe3, 0xf2, 0x89,
    0x50, 0x9c, 0x03, 0xb7, 0x73, 0xe6, 0xe1, 0x39, 0x31, 0x2c, 0x27, 0x9f,
    0xa5, 0x69, 0x44, 0xd6, 0x23, 0x83, 0x98, 0x7d, 0x3c, 0xb4, 0x2d, 0x99,
    0x1c, 0x1f, 0x8c, 0x20, 0x03, 0x7c, 0x5f, 0xad, 0xf4, 0xfa, 0x95, 0xca,
    0x76, 0x44, 0xcd, 0xb6, 0xb8, 0xa1, 0xa1, 0xbe, 0x9e, 0x54, 0x8f, 0x0b,
    0x16, 0x74, 0x31, 0x8a, 0x23, 0x17, 0x04, 0xfa, 0x79, 0x84, 0xb1, 0xf5,
    0x13, 0xab, 0xb5, 0x2e, 0xaa, 0x0c, 0x60, 0x6b, 0x5b, 0xc4, 0x4b, 0xbc,
    0xe2, 0xaf, 0x45, 0x73, 0xfa, 0xc9, 0x49, 0xcd, 0x00, 0x92, 0x7d, 0x97,
    0x7a, 0x18, 0x60, 0x3d, 0xcf, 0x5b, 0xde, 0xc6, 0xe2, 0xe6, 0xbb, 0x8b,
    0x06, 0xda, 0x08, 0x15, 0x1b, 0x88, 0x6a, 0x17, 0x89, 0xd0, 0xa9, 0xc1,
    0xc9, 0x70, 0x6b, 0xe5, 0x43, 0xf4, 0x68, 0xc8, 0xd3, 0x84, 0x28, 0x0a,
    0x52, 0x66, 0xa3, 0xca, 0xf2, 0xe3, 0x7f, 0x7a, 0x31, 0xf7, 0x88, 0x94,
    0x5e, 0x9c, 0x63, 0xd5, 0x24, 0x66, 0xfc, 0xb3, 0x57, 0x25, 0xbe, 0x89,
    0x44, 0xc4, 0xe0, 0x8f, 0x23, 0x3c, 0x12, 0x52, 0xf5, 0x1e, 0xf4, 0xcb,
    0x18, 0x33, 0x1f, 0xf8, 0x69, 0x10, 0x9d, 0xd3, 0xf7, 0x28, 0xf8, 0x30,
    0x05, 0x5e, 0x32, 0xc0, 0xd5, 0x19, 0xbd, 0x45, 0x8b, 0x5b, 0xfd, 0xbc,
    0xe2, 0x5c, 0xa9, 0x96, 0xef, 0x70, 0xcf, 0xc2, 0x2a, 0xb3, 0x61, 0xad,
    0x80, 0x48, 0x81, 0xb7, 0x1d, 0x43, 0xd9, 0xd7, 0x45, 0xf0, 0xd8, 0x8a,
    0x59, 0x7c, 0x57, 0xc1, 0x79, 0xc7, 0x34, 0xd6, 0x43, 0xdf, 0xe4, 0x78,
    0x16, 0x06, 0xda, 0x92, 0x76, 0x51, 0xe1, 0xd4, 0x70, 0x03, 0xe0, 0x2f,
    0x96, 0x91, 0x82, 0x80,
};
static const uint8_t sbox2[256] = {
    0xf0, 0x37, 0x24, 0x53, 0x2a, 0x03, 0x83, 0x86, 0xd1, 0xec, 0x50, 0xf0,
    0x42, 0x78, 0x2f, 0x6d, 0xbf, 0x80, 0x87, 0x27, 0x95, 0xe2, 0xc5, 0x5d,
    0xf9, 0x6f, 0xdb, 0xb4, 0x65, 0x6e, 0xe7, 0x24, 0xc8, 0x1a, 0xbb, 0x49,
    0xb5, 0x0a, 0x7d, 0xb9, 0xe8, 0xdc, 0xb7, 0xd9, 0x45, 0x20, 0x1b, 0xce,
    0x59, 0x9d, 0x6b, 0xbd, 0x0e, 0x8f, 0xa3, 0xa9, 0xbc, 0x74, 0xa6, 0xf6,
    0x7f, 0x5f, 0xb1, 0x68, 0x84, 0xbc, 0xa9, 0xfd, 0x55, 0x50, 0xe9, 0xb6,
    0x13, 0x5e, 0x07, 0xb8, 0x95, 0x02, 0xc0, 0xd0, 0x6a, 0x1a, 0x85, 0xbd,
    0xb6, 0xfd, 0xfe, 0x17, 0x3f, 0x09, 0xa3, 0x8d, 0xfb, 0xed, 0xda, 0x1d,
    0x6d, 0x1c, 0x6c, 0x01, 0x5a, 0xe5, 0x71, 0x3e, 0x8b, 0x6b, 0xbe, 0x29,
    0xeb, 0x12, 0x19, 0x34, 0xcd, 0xb3, 0xbd, 0x35, 0xea, 0x4b, 0xd5, 0xae,
    0x2a, 0x79, 0x5a, 0xa5, 0x32, 0x12, 0x7b, 0xdc, 0x2c, 0xd0, 0x22, 0x4b,
    0xb1, 0x85, 0x59, 0x80, 0xc0, 0x30, 0x9f, 0x73, 0xd3, 0x14, 0x48, 0x40,
    0x07, 0x2d, 0x8f, 0x80, 0x0f, 0xce, 0x0b, 0x5e, 0xb7, 0x5e, 0xac, 0x24,
    0x94, 0x4a, 0x18, 0x15, 0x05, 0xe8, 0x02, 0x77, 0xa9, 0xc7, 0x40, 0x45,
    0x89, 0xd1, 0xea, 0xde, 0x0c, 0x79, 0x2a, 0x99, 0x6c, 0x3e, 0x95, 0xdd,
    0x8c, 0x7d, 0xad, 0x6f, 0xdc, 0xff, 0xfd, 0x62, 0x47, 0xb3, 0x21, 0x8a,
    0xec, 0x8e, 0x19, 0x18, 0xb4, 0x6e, 0x3d, 0xfd, 0x74, 0x54, 0x1e, 0x04,
    0x85, 0xd8, 0xbc, 0x1f, 0x56, 0xe7, 0x3a, 0x56, 0x67, 0xd6, 0xc8, 0xa5,
    0xf3, 0x8e, 0xde, 0xae, 0x37, 0x49, 0xb7, 0xfa, 0xc8, 0xf4, 0x1f, 0xe0,
    0x2a, 0x9b, 0x15, 0xd1, 0x34, 0x0e, 0xb5, 0xe0, 0x44, 0x78, 0x84, 0x59,
    0x56, 0x68, 0x77, 0xa5, 0x14, 0x06, 0xf5, 0x2f, 0x8c, 0x8a, 0x73, 0x80,
    0x76, 0xb4, 0x10, 0x86,
};
static const uint8_t sbox3[256] = {
    0xa9, 0x2a, 0x48, 0x51, 0x84, 0x7e, 0x49, 0xe2, 0xb5, 0xb7, 0x42, 0x33,
    0x7d, 0x5d, 0xa6, 0x12, 0x44, 0x48, 0x6d, 0x28, 0xaa, 0x20, 0x6d, 0x57,
    0xd6, 0x6b, 0x5d, 0x72, 0xf0, 0x92, 0x5a, 0x1b, 0x53, 0x80, 0x24, 0x70,
    0x9a, 0xcc, 0xa7, 0x66, 0xa1, 0x01, 0xa5, 0x41, 0x97, 0x41, 0x31, 0x82,
    0xf1, 0x14, 0xcf, 0x53, 0x0d, 0xa0, 0x10, 0xcc, 0x2a, 0x7d, 0xd2, 0xbf,
    0x4b, 0x1a, 0xdb, 0x16, 0x47, 0xf6, 0x51, 0x36, 0xed, 0xf3, 0xb9, 0x1a,
    0xa7, 0xdf, 0x29, 0x43, 0x01, 0x54, 0x70, 0xa4, 0xbf, 0xd4, 0x0b, 0x53,
    0x44, 0x60, 0x9e, 0x23, 0xa1, 0x18, 0x68, 0x4f, 0xf0, 0x2f, 0x82, 0xc2,
    0x2a, 0x41, 0xb2, 0x42, 0x0c, 0xed, 0x0c, 0x1d, 0x13, 0x3a, 0x3c, 0x6e,
    0x35, 0xdc, 0x60, 0x65, 0x85, 0xe9, 0x64, 0x02, 0x9a, 0x3f, 0x9f, 0x87,
    0x96, 0xdf, 0xbe, 0xf2, 0xcb, 0xe5, 0x6c, 0xd4, 0x5a, 0x83, 0xbf, 0x92,
    0x1b, 0x94, 0x00, 0x42, 0xcf, 0x4b, 0x00, 0x75, 0xba, 0x8f, 0x76, 0x5f,
    0x5d, 0x3a, 0x4d, 0x09, 0x12, 0x08, 0x38, 0x95, 0x17, 0xe4, 0x01, 0x1d,
    0x4c, 0xa9, 0xcc, 0x85, 0x82, 0x4c, 0x9d, 0x2f, 0x3b, 0x66, 0xa1, 0x34,
    0x10, 0xcd, 0x59, 0x89, 0xa5, 0x31, 0xcf, 0x05, 0xc8, 0x84, 0xfa, 0xc7,
    0xba, 0x4e, 0x8b, 0x1a, 0x19, 0xf1, 0xa1, 0x3b, 0x18, 0x12, 0x17, 0xb0,
    0x98, 0x8d, 0x0b, 0x23, 0xc3, 0x3a, 0x2d, 0x20, 0xdf, 0x13, 0xa0, 0xa8,
    0x4c, 0x0d, 0x6c, 0x2f, 0x47, 0x13, 0x13, 0x52, 0x1f, 0x2d, 0xf5, 0x79,
    0x3d, 0xa2, 0x54, 0xbd, 0x69, 0xc8, 0x6b, 0xf3, 0x05, 0x28, 0xf1, 0x16,
    0x46, 0x40, 0xb0, 0x11, 0xd3, 0xb7, 0x95, 0x49, 0xcf, 0xc3, 0x1d, 0x8f,
    0xd8, 0xe1, 0x73, 0xdb, 0xad, 0xc8, 0xc9, 0xa9, 0xa1, 0xc2, 0xc5, 0xe3,
    0xba, 0xfc, 0x0e, 0x25,
};

static uint32_t lane0[256], lane1[256], lane2[256], lane3[256];

#define ROTR5(x) ((uint32_t)(((x) >> 5) | ((x) << 27)))
#define F(s) (lane0[(s) >> 24] | lane1[((s) >> 16) & 0xff] | \
              lane2[((s) >> 8) & 0xff] | lane3[(s) & 0xff])
#define GIL_THRESHOLD 4096

typedef struct { uint32_t k[16]; } schedule_t;

static void
make_schedule(const uint8_t key[8], schedule_t *ks)
{
    uint64_t k = 0;
    const uint64_t mask56 = (((uint64_t)1) << 56) - 1;
    int i;

    for (i = 0; i < 8; i++)
        k = (k << 7) | (uint64_t)(key[i] >> 1);
    for (i = 0; i < 16; i++) {
        ks->k[i] = (uint32_t)k;
        k = ((k >> 11) | (k << 45)) & mask56;      /* rotate right 11 of 56 */
    }
}

#define ROUND(dst, src, k) do { uint32_t s_ = (src) ^ (k); (dst) ^= F(s_); } while (0)

static inline void
enc_block(uint32_t *pl, uint32_t *pr, const schedule_t *ks)
{
    uint32_t L = *pl, R = *pr, s;
    int i;

    for (i = 0; i < 16; i += 2) {
        s = R ^ ks->k[i];
        L ^= F(s);
        s = L ^ ks->k[i + 1];
        R ^= F(s);
    }
    *pl = L;
    *pr = R;
}

static inline void
dec_block(uint32_t *pl, uint32_t *pr, const schedule_t *ks)
{
    uint32_t L = *pl, R = *pr, s;
    int i;

    for (i = 15; i > 0; i -= 2) {
        s = L ^ ks->k[i];
        R ^= F(s);
        s = R ^ ks->k[i - 1];
        L ^= F(s);
    }
    *pl = L;
    *pr = R;
}

/* Two independent blocks decrypted together (PCBC decryption of block i
 * does not depend on block i-1 until the final XOR), so the CPU overlaps
 * the two dependency chains. */
static inline void
dec_block2(uint32_t *l0, uint32_t *r0, uint32_t *l1, uint32_t *r1, const schedule_t *ks)
{
    uint32_t La = *l0, Ra = *r0, Lb = *l1, Rb = *r1;
    const uint32_t *k = ks->k;
    int i;

    for (i = 15; i > 0; i -= 2) {
        uint32_t ki = k[i], kj = k[i - 1];
        ROUND(Ra, La, ki); ROUND(Rb, Lb, ki);
        ROUND(La, Ra, kj); ROUND(Lb, Rb, kj);
    }
    *l0 = La; *r0 = Ra; *l1 = Lb; *r1 = Rb;
}

static inline uint32_t
load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline void
store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* PCBC over n bytes (n > 0); the last block is zero-padded on input. */
static void
pcbc_enc(const uint8_t *in, Py_ssize_t n, uint8_t *out,
         const schedule_t *ks, uint32_t v0, uint32_t v1)
{
    Py_ssize_t off;
    uint8_t tail[8];

    for (off = 0; off < n; off += 8) {
        const uint8_t *p = in + off;
        uint32_t p0, p1, c0, c1;

        if (n - off < 8) {
            memset(tail, 0, sizeof(tail));
            memcpy(tail, p, (size_t)(n - off));
            p = tail;
        }
        p0 = load_be32(p);
        p1 = load_be32(p + 4);
        c0 = p0 ^ v0;
        c1 = p1 ^ v1;
        enc_block(&c0, &c1, ks);
        store_be32(out + off, c0);
        store_be32(out + off + 4, c1);
        v0 = p0 ^ c0;
        v1 = p1 ^ c1;
    }
}

/* Four independent blocks decrypted together (see dec_block2). */
static inline void
dec_block4(uint32_t *b, const schedule_t *ks)
{
    uint32_t La = b[0], Ra = b[1], Lb = b[2], Rb = b[3];
    uint32_t Lc = b[4], Rc = b[5], Ld = b[6], Rd = b[7];
    const uint32_t *k = ks->k;
    int i;

    for (i = 15; i > 0; i -= 2) {
        uint32_t ki = k[i], kj = k[i - 1];
        ROUND(Ra, La, ki); ROUND(Rb, Lb, ki); ROUND(Rc, Lc, ki); ROUND(Rd, Ld, ki);
        ROUND(La, Ra, kj); ROUND(Lb, Rb, kj); ROUND(Lc, Rc, kj); ROUND(Ld, Rd, kj);
    }
    b[0] = La; b[1] = Ra; b[2] = Lb; b[3] = Rb;
    b[4] = Lc; b[5] = Rc; b[6] = Ld; b[7] = Rd;
}

static void
pcbc_dec(const uint8_t *in, Py_ssize_t n, uint8_t *out,
         const schedule_t *ks, uint32_t v0, uint32_t v1)
{
    Py_ssize_t off = 0;

    for (; off + 32 <= n; off += 32) {
        uint32_t c[8], p[8];
        int j;

        for (j = 0; j < 8; j++)
            p[j] = c[j] = load_be32(in + off + 4 * j);
        dec_block4(p, ks);
        for (j = 0; j < 8; j += 2) {
            p[j] ^= v0;
            p[j + 1] ^= v1;
            v0 = p[j] ^ c[j];
            v1 = p[j + 1] ^ c[j + 1];
            store_be32(out + off + 4 * j, p[j]);
            store_be32(out + off + 4 * j + 4, p[j + 1]);
        }
    }
    for (; off + 16 <= n; off += 16) {
        uint32_t c0 = load_be32(in + off), c1 = load_be32(in + off + 4);
        uint32_t c2 = load_be32(in + off + 8), c3 = load_be32(in + off + 12);
        uint32_t p0 = c0, p1 = c1, p2 = c2, p3 = c3;

        dec_block2(&p0, &p1, &p2, &p3, ks);
        p0 ^= v0;
        p1 ^= v1;
        v0 = p0 ^ c0;
        v1 = p1 ^ c1;
        p2 ^= v0;
        p3 ^= v1;
        v0 = p2 ^ c2;
        v1 = p3 ^ c3;
        store_be32(out + off, p0);
        store_be32(out + off + 4, p1);
        store_be32(out + off + 8, p2);
        store_be32(out + off + 12, p3);
    }
    for (; off < n; off += 8) {
        uint32_t c0 = load_be32(in + off), c1 = load_be32(in + off + 4);
        uint32_t p0 = c0, p1 = c1;

        dec_block(&p0, &p1, ks);
        p0 ^= v0;
        p1 ^= v1;
        store_be32(out + off, p0);
        store_be32(out + off + 4, p1);
        v0 = p0 ^ c0;
        v1 = p1 ^ c1;
    }
}

static int
need8(Py_buffer *b, const char *what)
{
    if (b->len != 8) {
        PyErr_Format(PyExc_ValueError, "fcrypt %s must be 8 bytes, not %zd",
                     what, b->len);
        return 0;
    }
    return 1;
}

static PyObject *
py_key_schedule(PyObject *self, PyObject *args)
{
    Py_buffer key;
    schedule_t ks;
    PyObject *t;
    int i;

    (void)self;
    if (!PyArg_ParseTuple(args, "y*:key_schedule", &key))
        return NULL;
    if (!need8(&key, "key")) {
        PyBuffer_Release(&key);
        return NULL;
    }
    make_schedule(key.buf, &ks);
    PyBuffer_Release(&key);
    t = PyTuple_New(16);
    if (!t)
        return NULL;
    for (i = 0; i < 16; i++) {
        PyObject *v = PyLong_FromUnsignedLong(ks.k[i]);
        if (!v) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, v);
    }
    return t;
}

static PyObject *
ecb(PyObject *args, int encrypt)
{
    Py_buffer key, block;
    schedule_t ks;
    uint32_t l, r;
    uint8_t out[8];

    if (!PyArg_ParseTuple(args, encrypt ? "y*y*:ecb_encrypt" : "y*y*:ecb_decrypt",
                          &key, &block))
        return NULL;
    if (!need8(&key, "key") || !need8(&block, "block")) {
        PyBuffer_Release(&key);
        PyBuffer_Release(&block);
        return NULL;
    }
    make_schedule(key.buf, &ks);
    l = load_be32(block.buf);
    r = load_be32((const uint8_t *)block.buf + 4);
    PyBuffer_Release(&key);
    PyBuffer_Release(&block);
    if (encrypt)
        enc_block(&l, &r, &ks);
    else
        dec_block(&l, &r, &ks);
    store_be32(out, l);
    store_be32(out + 4, r);
    return PyBytes_FromStringAndSize((const char *)out, 8);
}

static PyObject *py_ecb_encrypt(PyObject *self, PyObject *args) { (void)self; return ecb(args, 1); }
static PyObject *py_ecb_decrypt(PyObject *self, PyObject *args) { (void)self; return ecb(args, 0); }

static PyObject *
pcbc(PyObject *args, int encrypt)
{
    Py_buffer key, iv, data;
    schedule_t ks;
    uint32_t v0, v1;
    Py_ssize_t outlen;
    PyObject *res = NULL;

    if (!PyArg_ParseTuple(args, encrypt ? "y*y*y*:pcbc_encrypt" : "y*y*y*:pcbc_decrypt",
                          &key, &iv, &data))
        return NULL;
    if (!need8(&key, "key") || !need8(&iv, "block"))
        goto out;
    if (!encrypt && data.len % 8) {
        PyErr_SetString(PyExc_ValueError,
                        "PCBC ciphertext length must be a multiple of 8");
        goto out;
    }
    make_schedule(key.buf, &ks);
    v0 = load_be32(iv.buf);
    v1 = load_be32((const uint8_t *)iv.buf + 4);
    outlen = (data.len + 7) & ~(Py_ssize_t)7;
    res = PyBytes_FromStringAndSize(NULL, outlen);
    if (!res || outlen == 0)
        goto out;
    {
        uint8_t *dst = (uint8_t *)PyBytes_AS_STRING(res);
        const uint8_t *src = data.buf;
        Py_ssize_t n = data.len;

        if (n >= GIL_THRESHOLD) {
            Py_BEGIN_ALLOW_THREADS
            if (encrypt)
                pcbc_enc(src, n, dst, &ks, v0, v1);
            else
                pcbc_dec(src, n, dst, &ks, v0, v1);
            Py_END_ALLOW_THREADS
        } else if (encrypt) {
            pcbc_enc(src, n, dst, &ks, v0, v1);
        } else {
            pcbc_dec(src, n, dst, &ks, v0, v1);
        }
    }
out:
    PyBuffer_Release(&key);
    PyBuffer_Release(&iv);
    PyBuffer_Release(&data);
    return res;
}

static PyObject *py_pcbc_encrypt(PyObject *self, PyObject *args) { (void)self; return pcbc(args, 1); }
static PyObject *py_pcbc_decrypt(PyObject *self, PyObject *args) { (void)self; return pcbc(args, 0); }

static PyObject *
py_header_checksum(PyObject *self, PyObject *args)
{
    Py_buffer key, pre;
    unsigned long call, cid, seq;
    schedule_t ks;
    uint32_t w0, w1, t;

    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*kkk:header_checksum", &key, &pre,
                          &call, &cid, &seq))
        return NULL;
    if (!need8(&key, "key") || !need8(&pre, "block")) {
        PyBuffer_Release(&key);
        PyBuffer_Release(&pre);
        return NULL;
    }
    make_schedule(key.buf, &ks);
    w0 = (uint32_t)call ^ load_be32(pre.buf);
    w1 = ((((uint32_t)cid & 3u) << 30) | ((uint32_t)seq & 0x3fffffffu)) ^
         load_be32((const uint8_t *)pre.buf + 4);
    PyBuffer_Release(&key);
    PyBuffer_Release(&pre);
    enc_block(&w0, &w1, &ks);
    t = w1 >> 16;
    return PyLong_FromUnsignedLong(t ? t : 1);
}


/* ------------------------------------------------------------------ rxkad
 * Whole-packet sealing and unsealing (kafs.auth.crypto.rxkad uses these
 * when the backend has them; the pure-Python backend goes the long way).
 */

#define RXKAD_CLEAR 0
#define RXKAD_AUTH 1
#define RXKAD_CRYPT 2
#define MAX_CHAINS 4

static uint32_t
cksum16(const schedule_t *ks, const uint8_t pre[8], uint32_t call, uint32_t cid,
        uint32_t seq)
{
    uint32_t w0 = call ^ load_be32(pre);
    uint32_t w1 = (((cid & 3u) << 30) | (seq & 0x3fffffffu)) ^ load_be32(pre + 4);
    uint32_t t;

    enc_block(&w0, &w1, ks);
    t = w1 >> 16;
    return t ? t : 1;
}

/* One crypt-level packet being sealed: plaintext word||0000||data||pad. */
typedef struct {
    const uint8_t *data;
    Py_ssize_t len;       /* user bytes */
    Py_ssize_t nblocks;   /* wire blocks */
    uint8_t *out;
    uint32_t word;
    uint32_t v0, v1;      /* PCBC chaining value */
} chain_t;

static inline void
chain_block(const chain_t *c, Py_ssize_t b, uint32_t *p0, uint32_t *p1)
{
    Py_ssize_t off, left;

    if (b == 0) {
        *p0 = c->word;
        *p1 = 0;
        return;
    }
    off = (b - 1) * 8;
    left = c->len - off;
    if (left >= 8) {
        *p0 = load_be32(c->data + off);
        *p1 = load_be32(c->data + off + 4);
    } else {
        uint8_t tail[8];

        memset(tail, 0, sizeof(tail));
        if (left > 0)
            memcpy(tail, c->data + off, (size_t)left);
        *p0 = load_be32(tail);
        *p1 = load_be32(tail + 4);
    }
}

/* PCBC-encrypt up to MAX_CHAINS independent packets, their blocks
 * interleaved so that the CPU overlaps the dependency chains. */
static void
seal_chains(chain_t *c, int n, const schedule_t *ks)
{
    Py_ssize_t common = c[0].nblocks, b;
    int j, r;

    for (j = 1; j < n; j++)
        if (c[j].nblocks < common)
            common = c[j].nblocks;
    if (n == 4) {
        for (b = 0; b < common; b++) {
            uint32_t pa0, pa1, pb0, pb1, pc0, pc1, pd0, pd1;
            uint32_t La, Ra, Lb, Rb, Lc, Rc, Ld, Rd;

            chain_block(&c[0], b, &pa0, &pa1);
            chain_block(&c[1], b, &pb0, &pb1);
            chain_block(&c[2], b, &pc0, &pc1);
            chain_block(&c[3], b, &pd0, &pd1);
            La = pa0 ^ c[0].v0; Ra = pa1 ^ c[0].v1;
            Lb = pb0 ^ c[1].v0; Rb = pb1 ^ c[1].v1;
            Lc = pc0 ^ c[2].v0; Rc = pc1 ^ c[2].v1;
            Ld = pd0 ^ c[3].v0; Rd = pd1 ^ c[3].v1;
            for (r = 0; r < 16; r += 2) {
                uint32_t k0 = ks->k[r], k1 = ks->k[r + 1];
                ROUND(La, Ra, k0); ROUND(Lb, Rb, k0); ROUND(Lc, Rc, k0); ROUND(Ld, Rd, k0);
                ROUND(Ra, La, k1); ROUND(Rb, Lb, k1); ROUND(Rc, Lc, k1); ROUND(Rd, Ld, k1);
            }
            store_be32(c[0].out + b * 8, La); store_be32(c[0].out + b * 8 + 4, Ra);
            store_be32(c[1].out + b * 8, Lb); store_be32(c[1].out + b * 8 + 4, Rb);
            store_be32(c[2].out + b * 8, Lc); store_be32(c[2].out + b * 8 + 4, Rc);
            store_be32(c[3].out + b * 8, Ld); store_be32(c[3].out + b * 8 + 4, Rd);
            c[0].v0 = pa0 ^ La; c[0].v1 = pa1 ^ Ra;
            c[1].v0 = pb0 ^ Lb; c[1].v1 = pb1 ^ Rb;
            c[2].v0 = pc0 ^ Lc; c[2].v1 = pc1 ^ Rc;
            c[3].v0 = pd0 ^ Ld; c[3].v1 = pd1 ^ Rd;
        }
    } else if (n == 2) {
        for (b = 0; b < common; b++) {
            uint32_t pa0, pa1, pb0, pb1, La, Ra, Lb, Rb;

            chain_block(&c[0], b, &pa0, &pa1);
            chain_block(&c[1], b, &pb0, &pb1);
            La = pa0 ^ c[0].v0; Ra = pa1 ^ c[0].v1;
            Lb = pb0 ^ c[1].v0; Rb = pb1 ^ c[1].v1;
            for (r = 0; r < 16; r += 2) {
                uint32_t k0 = ks->k[r], k1 = ks->k[r + 1];
                ROUND(La, Ra, k0); ROUND(Lb, Rb, k0);
                ROUND(Ra, La, k1); ROUND(Rb, Lb, k1);
            }
            store_be32(c[0].out + b * 8, La); store_be32(c[0].out + b * 8 + 4, Ra);
            store_be32(c[1].out + b * 8, Lb); store_be32(c[1].out + b * 8 + 4, Rb);
            c[0].v0 = pa0 ^ La; c[0].v1 = pa1 ^ Ra;
            c[1].v0 = pb0 ^ Lb; c[1].v1 = pb1 ^ Rb;
        }
    } else {
        common = 0;
    }
    /* the rest of each chain (or single chains) one block at a time */
    for (j = 0; j < n; j++) {
        chain_t *cj = &c[j];

        for (b = common; b < cj->nblocks; b++) {
            uint32_t p0, p1, L, R;

            chain_block(cj, b, &p0, &p1);
            L = p0 ^ cj->v0;
            R = p1 ^ cj->v1;
            enc_block(&L, &R, ks);
            store_be32(cj->out + b * 8, L);
            store_be32(cj->out + b * 8 + 4, R);
            cj->v0 = p0 ^ L;
            cj->v1 = p1 ^ R;
        }
    }
}

static PyObject *
py_rxkad_seal(PyObject *self, PyObject *args)
{
    Py_buffer key, pre;
    int level;
    unsigned long call, cid, seq0;
    PyObject *payloads, *seqfast = NULL, *result = NULL;
    Py_buffer *bufs = NULL;
    Py_ssize_t n = 0, nbuf = 0, i;
    schedule_t ks;

    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*ikkkO:rxkad_seal", &key, &pre, &level,
                          &call, &cid, &seq0, &payloads))
        return NULL;
    if (!need8(&key, "key") || !need8(&pre, "block"))
        goto out;
    if (level < RXKAD_CLEAR || level > RXKAD_CRYPT) {
        PyErr_Format(PyExc_ValueError, "bad rxkad level %d", level);
        goto out;
    }
    seqfast = PySequence_Fast(payloads, "rxkad_seal: payloads must be a sequence");
    if (!seqfast)
        goto out;
    n = PySequence_Fast_GET_SIZE(seqfast);
    bufs = PyMem_Calloc(n ? (size_t)n : 1, sizeof(Py_buffer));
    if (!bufs) {
        PyErr_NoMemory();
        goto out;
    }
    for (nbuf = 0; nbuf < n; nbuf++) {
        if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(seqfast, nbuf), &bufs[nbuf],
                               PyBUF_SIMPLE) < 0)
            goto out;
        if (level != RXKAD_CLEAR && bufs[nbuf].len > 0xffff) {
            PyBuffer_Release(&bufs[nbuf]);
            PyErr_SetString(PyExc_ValueError, "an rxkad packet carries at most 65535 bytes");
            goto out;
        }
    }
    make_schedule(key.buf, &ks);
    result = PyList_New(n);
    if (!result)
        goto out;
    {
        chain_t chains[MAX_CHAINS];
        int nch = 0;

        for (i = 0; i < n; i++) {
            uint32_t seq = (uint32_t)(seq0 + (unsigned long)i);
            Py_ssize_t len = bufs[i].len, wlen;
            PyObject *wire, *ck, *tup;
            uint8_t *dst;

            if (level == RXKAD_CLEAR)
                wlen = len;
            else if (level == RXKAD_AUTH)
                wlen = len + 4 < 8 ? 8 : len + 4;
            else
                wlen = (len + 8 + 7) & ~(Py_ssize_t)7;
            wire = PyBytes_FromStringAndSize(NULL, wlen);
            if (!wire)
                goto fail;
            ck = PyLong_FromUnsignedLong(cksum16(&ks, pre.buf, (uint32_t)call,
                                                 (uint32_t)cid, seq));
            if (!ck) {
                Py_DECREF(wire);
                goto fail;
            }
            tup = PyTuple_Pack(2, wire, ck);
            Py_DECREF(wire);
            Py_DECREF(ck);
            if (!tup)
                goto fail;
            PyList_SET_ITEM(result, i, tup);
            dst = (uint8_t *)PyBytes_AS_STRING(wire);
            if (level == RXKAD_CLEAR) {
                memcpy(dst, bufs[i].buf, (size_t)len);
            } else {
                uint32_t word = (((seq ^ (uint32_t)call) & 0xffffu) << 16) |
                                ((uint32_t)len & 0xffffu);
                if (level == RXKAD_AUTH) {
                    uint32_t l, r;

                    memset(dst, 0, (size_t)wlen);
                    store_be32(dst, word);
                    memcpy(dst + 4, bufs[i].buf, (size_t)len);
                    l = load_be32(dst);
                    r = load_be32(dst + 4);
                    enc_block(&l, &r, &ks);
                    store_be32(dst, l);
                    store_be32(dst + 4, r);
                } else {
                    chain_t *c = &chains[nch++];

                    c->data = bufs[i].buf;
                    c->len = len;
                    c->nblocks = wlen / 8;
                    c->out = dst;
                    c->word = word;
                    c->v0 = load_be32(key.buf);
                    c->v1 = load_be32((const uint8_t *)key.buf + 4);
                    if (nch == MAX_CHAINS) {
                        seal_chains(chains, nch, &ks);
                        nch = 0;
                    }
                }
            }
        }
        if (nch == 3) {
            seal_chains(chains, 2, &ks);
            seal_chains(chains + 2, 1, &ks);
        } else if (nch) {
            seal_chains(chains, nch, &ks);
        }
    }
    goto out;
fail:
    Py_CLEAR(result);
out:
    if (bufs) {
        for (i = 0; i < nbuf; i++)
            PyBuffer_Release(&bufs[i]);
        PyMem_Free(bufs);
    }
    Py_XDECREF(seqfast);
    PyBuffer_Release(&key);
    PyBuffer_Release(&pre);
    return result;
}

/* rxkad_unseal(key, pre_seq, level, call, cid, seq, wire, cksum, verify)
 * -> bytes (the user data) or a negative int: -1 bad header checksum,
 * -2 sealed word mismatch, -3 bad wire length, -4 sealed length too long. */
static PyObject *
py_rxkad_unseal(PyObject *self, PyObject *args)
{
    Py_buffer key, pre, wire;
    int level, verify;
    unsigned long call, cid, seq, cksum;
    schedule_t ks;
    PyObject *res = NULL;
    const uint8_t *src;
    Py_ssize_t n, hdr;
    uint32_t word, length;
    long err = 0;

    (void)self;
    if (!PyArg_ParseTuple(args, "y*y*ikkky*kp:rxkad_unseal", &key, &pre, &level,
                          &call, &cid, &seq, &wire, &cksum, &verify))
        return NULL;
    if (!need8(&key, "key") || !need8(&pre, "block"))
        goto out;
    if (level < RXKAD_CLEAR || level > RXKAD_CRYPT) {
        PyErr_Format(PyExc_ValueError, "bad rxkad level %d", level);
        goto out;
    }
    make_schedule(key.buf, &ks);
    if (verify && cksum != cksum16(&ks, pre.buf, (uint32_t)call, (uint32_t)cid,
                                   (uint32_t)seq)) {
        err = -1;
        goto out;
    }
    src = wire.buf;
    n = wire.len;
    if (level == RXKAD_CLEAR) {
        res = PyBytes_FromStringAndSize((const char *)src, n);
        goto out;
    }
    if (level == RXKAD_AUTH) {
        uint32_t l, r;

        if (n < 8) {
            err = -3;
            goto out;
        }
        l = load_be32(src);
        r = load_be32(src + 4);
        dec_block(&l, &r, &ks);
        word = l;
        hdr = 4;
        if ((word >> 16) != (((uint32_t)seq ^ (uint32_t)call) & 0xffffu)) {
            err = -2;
            goto out;
        }
        length = word & 0xffffu;
        if (hdr + (Py_ssize_t)length > n) {
            err = -4;
            goto out;
        }
        res = PyBytes_FromStringAndSize(NULL, length);
        if (res) {
            uint8_t *dst = (uint8_t *)PyBytes_AS_STRING(res);
            uint8_t first[4];

            store_be32(first, r);
            if (length <= 4) {
                memcpy(dst, first, length);
            } else {
                memcpy(dst, first, 4);
                memcpy(dst + 4, src + 8, length - 4);
            }
        }
        goto out;
    }
    /* crypt */
    if (n == 0 || n % 8) {
        err = -3;
        goto out;
    }
    {
        uint8_t stackbuf[2048];
        uint8_t *plain = n <= (Py_ssize_t)sizeof(stackbuf) ? stackbuf : PyMem_Malloc((size_t)n);
        uint32_t v0 = load_be32(key.buf), v1 = load_be32((const uint8_t *)key.buf + 4);

        if (!plain) {
            PyErr_NoMemory();
            goto out;
        }
        pcbc_dec(src, n, plain, &ks, v0, v1);
        word = load_be32(plain);
        hdr = 8;
        if ((word >> 16) != (((uint32_t)seq ^ (uint32_t)call) & 0xffffu))
            err = -2;
        else if (hdr + (Py_ssize_t)(word & 0xffffu) > n)
            err = -4;
        else
            res = PyBytes_FromStringAndSize((const char *)plain + hdr, word & 0xffffu);
        if (plain != stackbuf)
            PyMem_Free(plain);
    }
out:
    PyBuffer_Release(&key);
    PyBuffer_Release(&pre);
    PyBuffer_Release(&wire);
    if (err)
        return PyLong_FromLong(err);
    return res;
}

static PyMethodDef methods[] = {
    {"key_schedule", py_key_schedule, METH_VARARGS, "The 16 round keys of an 8-byte key."},
    {"ecb_encrypt", py_ecb_encrypt, METH_VARARGS, "Encrypt one 8-byte block."},
    {"ecb_decrypt", py_ecb_decrypt, METH_VARARGS, "Decrypt one 8-byte block."},
    {"pcbc_encrypt", py_pcbc_encrypt, METH_VARARGS,
     "PCBC-encrypt data (zero-padded to a multiple of 8) with key and iv."},
    {"pcbc_decrypt", py_pcbc_decrypt, METH_VARARGS,
     "PCBC-decrypt data (a multiple of 8 bytes) with key and iv."},
    {"header_checksum", py_header_checksum, METH_VARARGS,
     "header_checksum(key, pre_seq, call_number, cid, seq): rxkad 16-bit checksum."},
    {"rxkad_seal", py_rxkad_seal, METH_VARARGS,
     "rxkad_seal(key, pre_seq, level, call, cid, seq0, payloads): [(wire, cksum)], "
     "packet i with seq seq0 + i."},
    {"rxkad_unseal", py_rxkad_unseal, METH_VARARGS,
     "rxkad_unseal(key, pre_seq, level, call, cid, seq, wire, cksum, verify): "
     "user data, or a negative int error."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "kafs.auth._fcrypt",
    .m_doc = "C accelerator for rxkad's fcrypt (see kafs.auth.crypto.fcrypt).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__fcrypt(void)
{
    int i;

    for (i = 0; i < 256; i++) {
        lane0[i] = ROTR5((uint32_t)sbox0[i] << 8);
        lane1[i] = ROTR5((uint32_t)sbox1[i]);
        lane2[i] = ROTR5((uint32_t)sbox2[i] << 16);
        lane3[i] = ROTR5((uint32_t)sbox3[i] << 24);
    }
    return PyModule_Create(&module);
}
