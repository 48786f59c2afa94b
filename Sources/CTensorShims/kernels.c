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
#endif

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
  if (has_avx2_f16c()) i = copy_swapped_avx2(src, dst, bytes, width);
#endif
  switch (width) {
    case 2:
      for (; i < bytes; i += 2) {
        uint16_t v;
        memcpy(&v, src + i, 2);
        v = __builtin_bswap16(v);
        memcpy(dst + i, &v, 2);
      }
      break;
    case 4:
      for (; i < bytes; i += 4) {
        uint32_t v;
        memcpy(&v, src + i, 4);
        v = __builtin_bswap32(v);
        memcpy(dst + i, &v, 4);
      }
      break;
    case 8:
      for (; i < bytes; i += 8) {
        uint64_t v;
        memcpy(&v, src + i, 8);
        v = __builtin_bswap64(v);
        memcpy(dst + i, &v, 8);
      }
      break;
    default:
      if (dst != src) memmove(dst, src, bytes);
      break;
  }
}
