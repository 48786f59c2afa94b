// Vectorized conversion kernels, chosen at run time by what the CPU supports (the rest
// of the package is compiled for the baseline x86-64, which has neither AVX2 nor F16C).
#include "CTensorShims.h"
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

/// 1 when the CPU and the OS support AVX2 and F16C, else 0; computed once.
static int has_avx2_f16c(void) {
  static int cached = -1;
  int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
  if (value >= 0) return value;
  unsigned a, b, c, d;
  value = 0;
  if (__get_cpuid(1, &a, &b, &c, &d)) {
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
    if (osxsave && avx && f16c) {
      unsigned lo, hi;
      __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
      if ((lo & 6) == 6 && __get_cpuid_count(7, 0, &a, &b, &c, &d)) value = (b >> 5) & 1;
    }
  }
  __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
  return value;
}

__attribute__((target("avx2,f16c"))) static size_t f32_to_f16_avx2(
    const uint8_t *src, uint8_t *dst, size_t count, int swap_in, int swap_out) {
  const __m256i swap32 = _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12, 3, 2, 1, 0, 7, 6, 5,
                                          4, 11, 10, 9, 8, 15, 14, 13, 12);
  const __m128i swap16 = _mm_setr_epi8(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
  const __m256i magnitude = _mm256_set1_epi32(0x7FFFFFFF);
  const __m256i infinity = _mm256_set1_epi32(0x7F800000);
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    __m256i v = _mm256_loadu_si256((const __m256i *)(src + 4 * i));
    if (swap_in) v = _mm256_shuffle_epi8(v, swap32);
    __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(v, magnitude), infinity);
    if (!_mm256_testz_si256(nan, nan)) break;  // NaN payloads: the caller's exact path
    __m128i h = _mm256_cvtps_ph(_mm256_castsi256_ps(v), _MM_FROUND_TO_NEAREST_INT);
    if (swap_out) h = _mm_shuffle_epi8(h, swap16);
    _mm_storeu_si128((__m128i *)(dst + 2 * i), h);
  }
  return i;
}

__attribute__((target("avx2"))) static size_t copy_swapped_avx2(
    const uint8_t *src, uint8_t *dst, size_t bytes, int width) {
  __m256i mask;
  switch (width) {
    case 2:
      mask = _mm256_setr_epi8(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11,
                              10, 13, 12, 15, 14);
      break;
    case 4:
      mask = _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9,
                              8, 15, 14, 13, 12);
      break;
    default:
      mask = _mm256_setr_epi8(7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13,
                              12, 11, 10, 9, 8);
      break;
  }
  size_t i = 0;
  for (; i + 128 <= bytes; i += 128) {
    __m256i a = _mm256_loadu_si256((const __m256i *)(src + i));
    __m256i b = _mm256_loadu_si256((const __m256i *)(src + i + 32));
    __m256i c = _mm256_loadu_si256((const __m256i *)(src + i + 64));
    __m256i d = _mm256_loadu_si256((const __m256i *)(src + i + 96));
    _mm256_storeu_si256((__m256i *)(dst + i), _mm256_shuffle_epi8(a, mask));
    _mm256_storeu_si256((__m256i *)(dst + i + 32), _mm256_shuffle_epi8(b, mask));
    _mm256_storeu_si256((__m256i *)(dst + i + 64), _mm256_shuffle_epi8(c, mask));
    _mm256_storeu_si256((__m256i *)(dst + i + 96), _mm256_shuffle_epi8(d, mask));
  }
  for (; i + 32 <= bytes; i += 32) {
    __m256i a = _mm256_loadu_si256((const __m256i *)(src + i));
    _mm256_storeu_si256((__m256i *)(dst + i), _mm256_shuffle_epi8(a, mask));
  }
  return i;
}

/// 8x8 transposes of 32-bit elements: `out[r * inner + i]` = the element at
/// `base + offsets[i] + 4 * r`, for rows and inner positions that are multiples of 8.
__attribute__((target("avx2"))) static void gather_transpose32_avx2(
    const uint8_t *base, size_t rows, const ptrdiff_t *offsets, size_t inner, uint32_t *out) {
  const size_t block = 256;
  for (size_t i_block = 0; i_block < inner; i_block += block) {
    size_t i_end = i_block + block < inner ? i_block + block : inner;
    for (size_t r = 0; r < rows; r += 8) {
      for (size_t i = i_block; i < i_end; i += 8) {
        if (i + 24 <= i_end) {
          for (int k = 0; k < 8; k++) __builtin_prefetch(base + offsets[i + 16 + k] + 4 * r);
        }
        __m256 v0 = _mm256_loadu_ps((const float *)(base + offsets[i + 0] + 4 * r));
        __m256 v1 = _mm256_loadu_ps((const float *)(base + offsets[i + 1] + 4 * r));
        __m256 v2 = _mm256_loadu_ps((const float *)(base + offsets[i + 2] + 4 * r));
        __m256 v3 = _mm256_loadu_ps((const float *)(base + offsets[i + 3] + 4 * r));
        __m256 v4 = _mm256_loadu_ps((const float *)(base + offsets[i + 4] + 4 * r));
        __m256 v5 = _mm256_loadu_ps((const float *)(base + offsets[i + 5] + 4 * r));
        __m256 v6 = _mm256_loadu_ps((const float *)(base + offsets[i + 6] + 4 * r));
        __m256 v7 = _mm256_loadu_ps((const float *)(base + offsets[i + 7] + 4 * r));
        __m256 t0 = _mm256_unpacklo_ps(v0, v1), t1 = _mm256_unpackhi_ps(v0, v1);
        __m256 t2 = _mm256_unpacklo_ps(v2, v3), t3 = _mm256_unpackhi_ps(v2, v3);
        __m256 t4 = _mm256_unpacklo_ps(v4, v5), t5 = _mm256_unpackhi_ps(v4, v5);
        __m256 t6 = _mm256_unpacklo_ps(v6, v7), t7 = _mm256_unpackhi_ps(v6, v7);
        __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
        __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
        __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
        __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
        float *o = (float *)(out + r * inner + i);
        _mm256_storeu_ps(o + 0 * inner, _mm256_permute2f128_ps(u0, u4, 0x20));
        _mm256_storeu_ps(o + 1 * inner, _mm256_permute2f128_ps(u1, u5, 0x20));
        _mm256_storeu_ps(o + 2 * inner, _mm256_permute2f128_ps(u2, u6, 0x20));
        _mm256_storeu_ps(o + 3 * inner, _mm256_permute2f128_ps(u3, u7, 0x20));
        _mm256_storeu_ps(o + 4 * inner, _mm256_permute2f128_ps(u0, u4, 0x31));
        _mm256_storeu_ps(o + 5 * inner, _mm256_permute2f128_ps(u1, u5, 0x31));
        _mm256_storeu_ps(o + 6 * inner, _mm256_permute2f128_ps(u2, u6, 0x31));
        _mm256_storeu_ps(o + 7 * inner, _mm256_permute2f128_ps(u3, u7, 0x31));
      }
    }
  }
}

/// 1 when the CPU has PCLMULQDQ and SSE4.1 (no OS state beyond SSE's), else 0.
static int has_pclmul(void) {
  static int cached = -1;
  int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
  if (value >= 0) return value;
  unsigned a, b, c, d;
  value = __get_cpuid(1, &a, &b, &c, &d) ? (int)((c >> 1) & (c >> 19) & 1) : 0;
  __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
  return value;
}

/// CRC-32 folding with carry-less multiplication ("Fast CRC Computation for Generic
/// Polynomials Using PCLMULQDQ", Intel, 2009), in the bit-reflected domain, with the
/// constants of that paper for the ZIP polynomial as Linux's crc32-pclmul and
/// Chromium's zlib use them. `crc` is the raw register (not inverted); `length` is a
/// multiple of 16, at least 64.
__attribute__((target("pclmul,sse4.1"))) static uint32_t crc32_fold(const uint8_t *buf, size_t length, uint32_t crc) {
  static const uint64_t k1k2[2] __attribute__((aligned(16))) = {0x0154442bd4, 0x01c6e41596};
  static const uint64_t k3k4[2] __attribute__((aligned(16))) = {0x01751997d0, 0x00ccaa009e};
  static const uint64_t k5k0[2] __attribute__((aligned(16))) = {0x0163cd6124, 0x0000000000};
  static const uint64_t poly[2] __attribute__((aligned(16))) = {0x01db710641, 0x01f7011641};
  __m128i x0, x1, x2, x3, x4, x5, x6, x7, x8, y5, y6, y7, y8;
  x1 = _mm_loadu_si128((const __m128i *)(buf + 0x00));
  x2 = _mm_loadu_si128((const __m128i *)(buf + 0x10));
  x3 = _mm_loadu_si128((const __m128i *)(buf + 0x20));
  x4 = _mm_loadu_si128((const __m128i *)(buf + 0x30));
  x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
  x0 = _mm_load_si128((const __m128i *)k1k2);
  buf += 64;
  length -= 64;
  // Four lanes folded 64 bytes at a time.
  while (length >= 64) {
    x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x6 = _mm_clmulepi64_si128(x2, x0, 0x00);
    x7 = _mm_clmulepi64_si128(x3, x0, 0x00);
    x8 = _mm_clmulepi64_si128(x4, x0, 0x00);
    x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
    x2 = _mm_clmulepi64_si128(x2, x0, 0x11);
    x3 = _mm_clmulepi64_si128(x3, x0, 0x11);
    x4 = _mm_clmulepi64_si128(x4, x0, 0x11);
    y5 = _mm_loadu_si128((const __m128i *)(buf + 0x00));
    y6 = _mm_loadu_si128((const __m128i *)(buf + 0x10));
    y7 = _mm_loadu_si128((const __m128i *)(buf + 0x20));
    y8 = _mm_loadu_si128((const __m128i *)(buf + 0x30));
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x5), y5);
    x2 = _mm_xor_si128(_mm_xor_si128(x2, x6), y6);
    x3 = _mm_xor_si128(_mm_xor_si128(x3, x7), y7);
    x4 = _mm_xor_si128(_mm_xor_si128(x4, x8), y8);
    buf += 64;
    length -= 64;
  }
  // The four lanes folded into one.
  x0 = _mm_load_si128((const __m128i *)k3k4);
  x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
  x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
  x1 = _mm_xor_si128(_mm_xor_si128(x1, x2), x5);
  x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
  x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
  x1 = _mm_xor_si128(_mm_xor_si128(x1, x3), x5);
  x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
  x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
  x1 = _mm_xor_si128(_mm_xor_si128(x1, x4), x5);
  // Then 16 bytes at a time.
  while (length >= 16) {
    x2 = _mm_loadu_si128((const __m128i *)buf);
    x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x2), x5);
    buf += 16;
    length -= 16;
  }
  // 128 bits folded to 64.
  x2 = _mm_clmulepi64_si128(x1, x0, 0x10);
  x3 = _mm_setr_epi32(~0, 0, ~0, 0);
  x1 = _mm_srli_si128(x1, 8);
  x1 = _mm_xor_si128(x1, x2);
  x0 = _mm_loadl_epi64((const __m128i *)k5k0);
  x2 = _mm_srli_si128(x1, 4);
  x1 = _mm_and_si128(x1, x3);
  x1 = _mm_clmulepi64_si128(x1, x0, 0x00);
  x1 = _mm_xor_si128(x1, x2);
  // Barrett reduction to 32 bits.
  x0 = _mm_load_si128((const __m128i *)poly);
  x2 = _mm_and_si128(x1, x3);
  x2 = _mm_clmulepi64_si128(x2, x0, 0x10);
  x2 = _mm_and_si128(x2, x3);
  x2 = _mm_clmulepi64_si128(x2, x0, 0x00);
  x1 = _mm_xor_si128(x1, x2);
  return (uint32_t)_mm_extract_epi32(x1, 1);
}
#endif

size_t tensortool_crc32_fold(uint32_t *crc, const void *data, size_t length) {
#if defined(__x86_64__)
  if (length >= 64 && has_pclmul()) {
    size_t folded = length & ~(size_t)15;
    *crc = ~crc32_fold(data, folded, ~*crc);
    return folded;
  }
#endif
  (void)crc; (void)data; (void)length;
  return 0;
}

size_t tensortool_f32_to_f16(const void *source, void *destination, size_t count, int swap_in, int swap_out) {
#if defined(__x86_64__)
  if (has_avx2_f16c()) return f32_to_f16_avx2(source, destination, count, swap_in, swap_out);
#endif
  (void)source; (void)destination; (void)count; (void)swap_in; (void)swap_out;
  return 0;
}

void tensortool_copy_swapped(const void *source, void *destination, size_t units, int width) {
  const uint8_t *src = source;
  uint8_t *dst = destination;
  size_t bytes = units * (size_t)width;
  size_t i = 0;
#if defined(__x86_64__)
  if (has_avx2_f16c() && (width == 2 || width == 4 || width == 8)) i = copy_swapped_avx2(src, dst, bytes, width);
#endif
// The tail (or everything, without AVX2), one value at a time.
#define TENSORTOOL_SWAP_LOOP(TYPE, SWAP)         \
  for (; i < bytes; i += sizeof(TYPE)) {         \
    TYPE v;                                      \
    memcpy(&v, src + i, sizeof(TYPE));           \
    v = SWAP(v);                                 \
    memcpy(dst + i, &v, sizeof(TYPE));           \
  }
  switch (width) {
    case 2:
      TENSORTOOL_SWAP_LOOP(uint16_t, __builtin_bswap16)
      break;
    case 4:
      TENSORTOOL_SWAP_LOOP(uint32_t, __builtin_bswap32)
      break;
    case 8:
      TENSORTOOL_SWAP_LOOP(uint64_t, __builtin_bswap64)
      break;
    case 16:  // x86-64 long double: numpy reverses all 16 bytes
      for (; i < bytes; i += 16) {
        uint8_t v[16];
        memcpy(v, src + i, 16);
        for (int k = 0; k < 16; k++) dst[i + k] = v[15 - k];
      }
      break;
    default:
      if (dst != src) memmove(dst, src, bytes);
      break;
  }
#undef TENSORTOOL_SWAP_LOOP
}

int tensortool_gather_transpose32(
    const void *base, size_t rows, const ptrdiff_t *offsets, size_t inner, void *destination) {
#if defined(__x86_64__)
  if (has_avx2_f16c() && rows % 8 == 0 && inner % 8 == 0) {
    gather_transpose32_avx2(base, rows, offsets, inner, destination);
    return 1;
  }
#endif
  (void)base; (void)rows; (void)offsets; (void)inner; (void)destination;
  return 0;
}
