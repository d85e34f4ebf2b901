//===- KvCache.cpp - contiguous and paged KV caches -----------------------===//
//
// This file implements the attnrt_kv_* entry points. Both layouts store rows
// of [kv_heads, rows, dim] slabs: a contiguous cache has one slab of
// `capacity` rows per sequence slot, a paged cache one slab of `page_size`
// rows per page of a shared pool, found through the sequence's block table.
//
// Paged sharing: a page is referenced by every block table that names it and
// counted in `refCounts`. Fork copies the parent's table and adds a reference
// to each page; an append into a partially filled page that another sequence
// also references copies the page first (copy-on-write), so a sequence never
// writes rows another one reads. A full shared page needs no copy: appends
// go to fresh pages. Truncate and release drop references; a page whose count
// reaches 0 returns to the free list.
//
//===----------------------------------------------------------------------===//

#include "CacheSupport.h"

#include <algorithm>

using namespace attnrt;

struct ATTNRT_INTERNAL attnrt_kv_cache : CacheBase {
  attnrt_status init(const char *fn, const attnrt_kv_cache_desc &desc);

  bool paged() const { return desc.layout == ATTNRT_KV_PAGED; }
  int32_t sequenceLength(int32_t seq) const { return lengths[size_t(seq)]; }
  void clearSequence(int32_t seq) { dropTokens(seq, 0); }
  void publish(int32_t seq) const {
    lengths.publish(size_t(seq), 1);
    if (paged())
      blockTable.publish(size_t(seq) * size_t(pagesPerSeq),
                         size_t(pagesPerSeq));
  }
  void copySequence(int32_t from, int32_t to);
  size_t usedBytes() const;
  int32_t freePages() const { return paged() ? freeCount : -1; }

  /// Pages (paged) a sequence of `length` tokens occupies.
  int32_t pagesFor(int32_t length) const {
    // In 64 bits: length + page_size - 1 may pass INT32_MAX.
    return int32_t((int64_t(length) + desc.page_size - 1) / desc.page_size);
  }
  int32_t *tableRow(int32_t seq) const {
    return blockTable.data() + size_t(seq) * size_t(pagesPerSeq);
  }
  /// Whether the last page of `seq` is partially filled and shared, so that
  /// an append must copy it first.
  bool lastPageShared(int32_t seq) const {
    int32_t length = lengths[size_t(seq)];
    return length % desc.page_size != 0 &&
           refCounts[size_t(tableRow(seq)[pagesFor(length) - 1])] > 1;
  }
  /// Calls fn(slab, row, first, count) for each run of tokens [start, start +
  /// tokens) of `seq` that is contiguous in the key/value arrays; `first`
  /// counts from `start`.
  template <typename Fn>
  void forEachRun(int32_t seq, int32_t start, int32_t tokens, Fn &&fn) const;

  attnrt_status checkAppendable(const char *fn, int32_t seq, int32_t tokens,
                                const void *key, const void *value) const;
  void append(int32_t seq, int32_t tokens, const void *key, const void *value);
  attnrt_status truncateTo(const char *, int32_t seq, int32_t length) {
    dropTokens(seq, length);
    return ATTNRT_OK;
  }
  /// Shortens `seq` to `length` tokens, dropping the pages past them.
  void dropTokens(int32_t seq, int32_t length);
  int32_t takePage();
  void dropPage(int32_t page);

  attnrt_kv_cache_desc desc = {};
  RowArray key, value;
  Mirror<int32_t> lengths;
  // Paged only.
  Mirror<int32_t> blockTable; // [max_seqs, pagesPerSeq]
  Buffer<int32_t> refCounts;  // [num_pages]
  Buffer<int32_t> freeList;   // a stack of free page indices
  int32_t freeCount = 0;
  int32_t pagesPerSeq = 0;
};

namespace {

attnrt_status checkDesc(const char *fn, const attnrt_kv_cache_desc &d) {
  int32_t layout = rawEnum(d.layout);
  if (layout != ATTNRT_KV_CONTIGUOUS && layout != ATTNRT_KV_PAGED)
    return failf(ATTNRT_INVALID_ARGUMENT,
                 "%s: layout %d is not ATTNRT_KV_CONTIGUOUS (0) or "
                 "ATTNRT_KV_PAGED (1)",
                 fn, layout);
  if (attnrt_status s = checkDtype(fn, "dtype", d.dtype))
    return s;
  if (attnrt_status s = checkPositive(fn, {{"kv_heads", d.kv_heads},
                                           {"head_dim", d.head_dim},
                                           {"value_dim", d.value_dim},
                                           {"capacity", d.capacity}}))
    return s;
  if (d.layout == ATTNRT_KV_CONTIGUOUS) {
    if (d.page_size != 0 || d.num_pages != 0)
      return failf(ATTNRT_INVALID_ARGUMENT,
                   "%s: a contiguous cache takes page_size 0 and num_pages 0, "
                   "got %d and %d",
                   fn, d.page_size, d.num_pages);
    return ATTNRT_OK;
  }
  if (attnrt_status s = checkPositive(
          fn, {{"page_size", d.page_size}, {"num_pages", d.num_pages}}))
    return s;
  return checkMultiple(fn, "capacity", d.capacity, "page_size", d.page_size);
}

} // namespace

attnrt_status attnrt_kv_cache::init(const char *fn,
                                    const attnrt_kv_cache_desc &d) {
  if (attnrt_status s = checkDesc(fn, d))
    return s;
  if (attnrt_status s = checkMemory(fn, d.memory, memory))
    return s;
  if (attnrt_status s = allocateSlots(fn, d.max_seqs))
    return s;
  desc = d;
  size_t bytes = dtypeBytes(d.dtype);
  bool isPaged = paged();
  size_t slabs = size_t(isPaged ? d.num_pages : d.max_seqs);
  size_t rows = size_t(isPaged ? d.page_size : d.capacity);
  if (attnrt_status s = key.allocate(*this, fn, "keys", slabs, d.kv_heads, rows,
                                     bytes * size_t(d.head_dim)))
    return s;
  if (attnrt_status s = value.allocate(*this, fn, "values", slabs, d.kv_heads,
                                       rows, bytes * size_t(d.value_dim)))
    return s;
  if (attnrt_status s =
          lengths.allocate(*this, fn, "lengths", size_t(d.max_seqs)))
    return s;
  if (!isPaged)
    return ATTNRT_OK;
  pagesPerSeq = d.capacity / d.page_size;
  size_t tableEntries = 0;
  if (attnrt_status s =
          checkedSize(fn, "the block table",
                      {size_t(d.max_seqs), size_t(pagesPerSeq)}, tableEntries))
    return s;
  if (attnrt_status s =
          blockTable.allocate(*this, fn, "the block table", tableEntries))
    return s;
  if (attnrt_status s =
          allocate(fn, "page reference counts", refCounts, size_t(d.num_pages)))
    return s;
  if (attnrt_status s =
          allocate(fn, "the free list", freeList, size_t(d.num_pages)))
    return s;
  // Pop order 0, 1, 2, ...: a fresh cache fills the pool from the front.
  for (int32_t p = 0; p < d.num_pages; ++p)
    freeList[size_t(p)] = d.num_pages - 1 - p;
  freeCount = d.num_pages;
  return ATTNRT_OK;
}

int32_t attnrt_kv_cache::takePage() {
  int32_t page = freeList[size_t(--freeCount)];
  refCounts[size_t(page)] = 1;
  return page;
}

void attnrt_kv_cache::dropPage(int32_t page) {
  if (--refCounts[size_t(page)] == 0)
    freeList[size_t(freeCount++)] = page;
}

template <typename Fn>
void attnrt_kv_cache::forEachRun(int32_t seq, int32_t start, int32_t tokens,
                                 Fn &&fn) const {
  if (!paged()) {
    fn(size_t(seq), size_t(start), size_t(0), size_t(tokens));
    return;
  }
  const int32_t *table = tableRow(seq);
  for (int32_t done = 0; done < tokens;) {
    int32_t position = start + done;
    int32_t row = position % desc.page_size;
    int32_t count = std::min(desc.page_size - row, tokens - done);
    fn(size_t(table[position / desc.page_size]), size_t(row), size_t(done),
       size_t(count));
    done += count;
  }
}

attnrt_status attnrt_kv_cache::checkAppendable(const char *fn, int32_t seq,
                                               int32_t tokens, const void *,
                                               const void *) const {
  if (!paged())
    return ATTNRT_OK;
  int32_t length = lengths[size_t(seq)];
  bool copy = lastPageShared(seq);
  int32_t needed = pagesFor(length + tokens) - pagesFor(length) + copy;
  if (needed <= freeCount)
    return ATTNRT_OK;
  return failf(ATTNRT_CACHE_FULL,
               "%s: appending %d tokens to sequence %d needs %d free pages%s; "
               "%d of %d are free",
               fn, tokens, seq, needed,
               copy ? " (one for a copy of its shared last page)" : "",
               freeCount, desc.num_pages);
}

void attnrt_kv_cache::append(int32_t seq, int32_t tokens, const void *k,
                             const void *v) {
  int32_t length = lengths[size_t(seq)];
  if (paged()) {
    int32_t *table = tableRow(seq);
    int32_t have = pagesFor(length);
    if (lastPageShared(seq)) {
      size_t rows = size_t(length % desc.page_size);
      int32_t shared = table[have - 1];
      int32_t copy = takePage();
      key.copyRows(size_t(shared), size_t(copy), rows);
      value.copyRows(size_t(shared), size_t(copy), rows);
      dropPage(shared);
      table[have - 1] = copy;
    }
    for (int32_t p = have, end = pagesFor(length + tokens); p < end; ++p)
      table[p] = takePage();
  }
  forEachRun(seq, length, tokens,
             [&](size_t slab, size_t row, size_t first, size_t count) {
               key.store(slab, row, k, size_t(tokens), first, count);
               value.store(slab, row, v, size_t(tokens), first, count);
             });
  lengths[size_t(seq)] = length + tokens;
}

void attnrt_kv_cache::dropTokens(int32_t seq, int32_t length) {
  if (paged()) {
    int32_t *table = tableRow(seq);
    for (int32_t p = pagesFor(length), end = pagesFor(lengths[size_t(seq)]);
         p < end; ++p) {
      dropPage(table[p]);
      table[p] = 0;
    }
  }
  lengths[size_t(seq)] = length;
}

void attnrt_kv_cache::copySequence(int32_t from, int32_t to) {
  int32_t length = lengths[size_t(from)];
  if (paged()) {
    const int32_t *parent = tableRow(from);
    int32_t *child = tableRow(to);
    for (int32_t p = 0, end = pagesFor(length); p < end; ++p) {
      child[p] = parent[p];
      ++refCounts[size_t(parent[p])];
    }
  } else {
    key.copyRows(size_t(from), size_t(to), size_t(length));
    value.copyRows(size_t(from), size_t(to), size_t(length));
  }
  lengths[size_t(to)] = length;
}

size_t attnrt_kv_cache::usedBytes() const {
  size_t rowBytes = key.rowBytes() + value.rowBytes();
  if (paged())
    return size_t(desc.num_pages - freeCount) * size_t(desc.page_size) *
           size_t(desc.kv_heads) * rowBytes;
  size_t tokens = 0;
  for (int32_t s = 0; s < slotCount(); ++s)
    tokens += size_t(lengths[size_t(s)]);
  return tokens * size_t(desc.kv_heads) * rowBytes;
}

//===----------------------------------------------------------------------===//
// C entry points
//===----------------------------------------------------------------------===//

#pragma GCC visibility push(default)

extern "C" {

ATTNRT_DEFINE_CACHE_ENTRY_POINTS(kv)
ATTNRT_DEFINE_TOKEN_ENTRY_POINTS(kv, void)

attnrt_status attnrt_kv_view_get(attnrt_kv_cache *cache, attnrt_kv_view *view) {
  const char *fn = "attnrt_kv_view_get";
  return withLock(fn, cache, [&] {
    if (attnrt_status s = checkNotNull(fn, "view", view))
      return s;
    view->key = cache->key.data();
    view->value = cache->value.data();
    view->lengths = cache->lengths.view();
    view->block_table = cache->paged() ? cache->blockTable.view() : nullptr;
    return ATTNRT_OK;
  });
}

attnrt_status attnrt_kv_read(attnrt_kv_cache *cache, int32_t seq, int32_t start,
                             int32_t tokens, void *key, void *value) {
  const char *fn = "attnrt_kv_read";
  return withLock(fn, cache, [&] {
    if (attnrt_status s = checkTokenArguments(fn, *cache, seq, key, value))
      return s;
    int32_t length = cache->lengths[size_t(seq)];
    if (start < 0 || tokens < 0 || start > length || tokens > length - start)
      return failf(ATTNRT_INVALID_ARGUMENT,
                   "%s: tokens [%d, %d + %d) are not within sequence %d of %d "
                   "tokens",
                   fn, start, start, tokens, seq, length);
    cache->forEachRun(
        seq, start, tokens,
        [&](size_t slab, size_t row, size_t first, size_t count) {
          cache->key.load(slab, row, key, size_t(tokens), first, count);
          cache->value.load(slab, row, value, size_t(tokens), first, count);
        });
    return ATTNRT_OK;
  });
}

} // extern "C"

#pragma GCC visibility pop
