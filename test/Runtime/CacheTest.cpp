//===- CacheTest.cpp - unit tests of the KV caches of libattnrt -----------===//
//
// Contiguous and paged KV caches (attnrt_cache.h) against a token model:
// read-back and view layout element by element, paged equal to contiguous,
// fork sharing and copy-on-write, truncate, page accounting, every error path
// leaving the cache exactly as it was, and a long randomised run. Shapes are
// odd on purpose: 3 kv heads, head_dim 7, value_dim 10, pages of 5 tokens.
//
//===----------------------------------------------------------------------===//

#include "CacheTestSupport.h"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

using namespace cachetest;

namespace {

constexpr int32_t kHeads = 3, kKeyDim = 7, kValueDim = 10, kPage = 5;

attnrt_kv_cache_desc kvDesc(attnrt_kv_layout layout, attnrt_dtype dtype,
                            int32_t maxSeqs, int32_t capacity,
                            int32_t numPages) {
  attnrt_kv_cache_desc d = {};
  d.layout = layout;
  d.dtype = dtype;
  d.max_seqs = maxSeqs;
  d.kv_heads = kHeads;
  d.head_dim = kKeyDim;
  d.value_dim = kValueDim;
  d.capacity = capacity;
  if (layout == ATTNRT_KV_PAGED) {
    d.page_size = kPage;
    d.num_pages = numPages;
  }
  return d;
}

bool operator==(const attnrt_cache_memory &a, const attnrt_cache_memory &b) {
  return a.reserved_bytes == b.reserved_bytes && a.used_bytes == b.used_bytes &&
         a.free_pages == b.free_pages;
}

/// A KV cache and the model of its live sequences.
class KvHarness {
public:
  explicit KvHarness(const attnrt_kv_cache_desc &d) : desc(d) {
    EXPECT_OK(attnrt_kv_cache_create(&desc, &cache));
    element = elementSize(d.dtype);
  }
  ~KvHarness() { attnrt_kv_cache_destroy(cache); }
  KvHarness(const KvHarness &) = delete;
  KvHarness &operator=(const KvHarness &) = delete;

  bool paged() const { return desc.layout == ATTNRT_KV_PAGED; }
  int32_t pagesPerSeq() const { return desc.capacity / desc.page_size; }
  size_t keyRow() const { return size_t(kKeyDim) * element; }
  size_t valueRow() const { return size_t(kValueDim) * element; }

  TokenModel random(size_t count, std::mt19937 &rng) const {
    return randomTokens(count, desc.dtype, size_t(kHeads * kKeyDim), desc.dtype,
                        size_t(kHeads * kValueDim), rng);
  }

  int32_t create() {
    int32_t seq = -1;
    EXPECT_OK(attnrt_kv_seq_create(cache, &seq));
    model[seq] = {};
    return seq;
  }
  attnrt_status append(int32_t seq, const TokenModel &tokens, size_t first,
                       size_t count) {
    return appendPacked(model[seq], tokens, first, count, kHeads,
                        [&](int32_t n, const void *k, const void *v) {
                          return attnrt_kv_append(cache, seq, n, k, v);
                        });
  }
  attnrt_status append(int32_t seq, const TokenModel &tokens) {
    return append(seq, tokens, 0, tokens.size());
  }
  attnrt_status truncate(int32_t seq, int32_t length) {
    attnrt_status s = attnrt_kv_truncate(cache, seq, length);
    if (s == ATTNRT_OK)
      model[seq].truncate(size_t(length));
    return s;
  }
  attnrt_status fork(int32_t parent, int32_t &child) {
    attnrt_status s = attnrt_kv_fork(cache, parent, &child);
    if (s == ATTNRT_OK)
      model[child] = model[parent];
    return s;
  }
  attnrt_status release(int32_t seq) {
    attnrt_status s = attnrt_kv_seq_release(cache, seq);
    if (s == ATTNRT_OK)
      model.erase(seq);
    return s;
  }

  attnrt_kv_view view() const {
    attnrt_kv_view v = {};
    EXPECT_OK(attnrt_kv_view_get(cache, &v));
    return v;
  }
  attnrt_cache_memory memory() const {
    attnrt_cache_memory m = {};
    EXPECT_OK(attnrt_kv_memory(cache, &m));
    return m;
  }
  /// Tokens [0, length) of `seq` read back with attnrt_kv_read.
  std::pair<Bytes, Bytes> read(int32_t seq) const {
    int32_t length = -1;
    EXPECT_OK(attnrt_kv_length(cache, seq, &length));
    Bytes k(size_t(kHeads) * size_t(length) * keyRow() + 1);
    Bytes v(size_t(kHeads) * size_t(length) * valueRow() + 1);
    EXPECT_OK(attnrt_kv_read(cache, seq, 0, length, k.data(), v.data()));
    k.pop_back();
    v.pop_back();
    return {k, v};
  }

  /// Row `row` of head `head` of token `token` of `seq`, found through the
  /// view as a kernel would: the slot's slab, or the page the block table
  /// names.
  const uint8_t *viewRow(const attnrt_kv_view &v, bool isKey, int32_t seq,
                         int32_t head, int32_t token) const {
    size_t rowBytes = isKey ? keyRow() : valueRow();
    auto *base = static_cast<const uint8_t *>(isKey ? v.key : v.value);
    size_t slab = size_t(seq), row = size_t(token),
           rows = size_t(desc.capacity);
    if (paged()) {
      slab = size_t(v.block_table[seq * pagesPerSeq() + token / kPage]);
      row = size_t(token % kPage);
      rows = size_t(kPage);
    }
    return base + ((slab * kHeads + size_t(head)) * rows + row) * rowBytes;
  }

  /// Every live sequence against the model: length, read-back, and the view
  /// walked token by token; free slots have length 0.
  void checkContents() const {
    attnrt_kv_view v = view();
    for (int32_t s = 0; s < desc.max_seqs; ++s) {
      auto it = model.find(s);
      if (it == model.end()) {
        EXPECT_EQ(v.lengths[s], 0) << "free slot " << s;
        continue;
      }
      const TokenModel &m = it->second;
      ASSERT_EQ(v.lengths[s], int32_t(m.size())) << "sequence " << s;
      auto [k, val] = read(s);
      EXPECT_EQ(k, packTokens(m.key, 0, m.size(), kHeads)) << "sequence " << s;
      EXPECT_EQ(val, packTokens(m.value, 0, m.size(), kHeads))
          << "sequence " << s;
      for (int32_t t = 0; t < int32_t(m.size()); ++t)
        for (int32_t h = 0; h < kHeads; ++h) {
          ASSERT_EQ(0, std::memcmp(viewRow(v, true, s, h, t),
                                   &m.key[size_t(t)][size_t(h) * keyRow()],
                                   keyRow()))
              << "key of sequence " << s << " token " << t << " head " << h;
          ASSERT_EQ(0, std::memcmp(viewRow(v, false, s, h, t),
                                   &m.value[size_t(t)][size_t(h) * valueRow()],
                                   valueRow()))
              << "value of sequence " << s << " token " << t << " head " << h;
        }
    }
  }

  /// How many live block tables name each page (paged).
  std::vector<int32_t> pageUsers() const {
    attnrt_kv_view v = view();
    std::vector<int32_t> users(size_t(desc.num_pages), 0);
    for (const auto &[s, m] : model)
      for (int32_t p = 0; p < (int32_t(m.size()) + kPage - 1) / kPage; ++p)
        ++users[size_t(v.block_table[s * pagesPerSeq() + p])];
    return users;
  }

  /// Paged bookkeeping: pages in use (distinct pages of live tables) plus
  /// free pages is the pool, used_bytes counts the pages in use, and table
  /// entries past a sequence's pages are 0.
  void checkPages() const {
    std::vector<int32_t> users = pageUsers();
    int32_t inUse = int32_t(std::count_if(users.begin(), users.end(),
                                          [](int32_t n) { return n > 0; }));
    attnrt_cache_memory m = memory();
    EXPECT_EQ(m.free_pages + inUse, desc.num_pages);
    EXPECT_EQ(m.used_bytes,
              size_t(inUse) * kPage * kHeads * (keyRow() + valueRow()));
    attnrt_kv_view v = view();
    for (int32_t s = 0; s < desc.max_seqs; ++s) {
      auto it = model.find(s);
      int32_t pages = it == model.end()
                          ? 0
                          : (int32_t(it->second.size()) + kPage - 1) / kPage;
      for (int32_t p = pages; p < pagesPerSeq(); ++p)
        ASSERT_EQ(v.block_table[s * pagesPerSeq() + p], 0)
            << "sequence " << s << " entry " << p;
    }
  }

  /// Pages an append of `tokens` to `seq` needs, derived from the model and
  /// the block tables alone.
  int32_t pagesNeeded(int32_t seq, int32_t tokens) const {
    int32_t length = int32_t(model.at(seq).size());
    int32_t have = (length + kPage - 1) / kPage;
    int32_t needed = (length + tokens + kPage - 1) / kPage - have;
    if (length % kPage != 0) {
      int32_t last = view().block_table[seq * pagesPerSeq() + have - 1];
      if (pageUsers()[size_t(last)] > 1)
        ++needed;
    }
    return needed;
  }

  attnrt_kv_cache_desc desc;
  attnrt_kv_cache *cache = nullptr;
  size_t element = 4;
  std::map<int32_t, TokenModel> model;
};

/// Everything a caller can observe of a KV cache.
struct KvSnapshot {
  Bytes key, value;
  std::vector<int32_t> lengths, table;
  attnrt_cache_memory memory;
  std::vector<std::pair<Bytes, Bytes>> reads;

  explicit KvSnapshot(const KvHarness &h) : memory(h.memory()) {
    attnrt_kv_view v = h.view();
    size_t slabs = size_t(h.paged() ? h.desc.num_pages : h.desc.max_seqs);
    size_t rows = size_t(h.paged() ? h.desc.page_size : h.desc.capacity);
    auto *k = static_cast<const uint8_t *>(v.key);
    auto *val = static_cast<const uint8_t *>(v.value);
    key.assign(k, k + slabs * kHeads * rows * h.keyRow());
    value.assign(val, val + slabs * kHeads * rows * h.valueRow());
    lengths.assign(v.lengths, v.lengths + h.desc.max_seqs);
    if (h.paged())
      table.assign(v.block_table,
                   v.block_table + h.desc.max_seqs * h.pagesPerSeq());
    for (int32_t s = 0; s < h.desc.max_seqs; ++s)
      if (h.model.count(s))
        reads.push_back(h.read(s));
  }
  bool operator==(const KvSnapshot &o) const {
    return key == o.key && value == o.value && lengths == o.lengths &&
           table == o.table && memory == o.memory && reads == o.reads;
  }
};

/// Expects `call` to fail with `status` and a message containing each of
/// `fragments`, leaving every observable part of the cache unchanged.
template <typename Call>
void expectRefused(KvHarness &h, attnrt_status status,
                   std::vector<std::string> fragments, Call &&call) {
  KvSnapshot before(h);
  EXPECT_EQ(call(), status);
  std::string message = attnrt_last_error();
  for (const std::string &f : fragments)
    EXPECT_NE(message.find(f), std::string::npos)
        << "'" << f << "' not in: " << message;
  EXPECT_TRUE(KvSnapshot(h) == before)
      << "the failed call changed the cache: " << message;
}

class KvCacheTest : public ::testing::TestWithParam<
                        std::tuple<attnrt_kv_layout, attnrt_dtype>> {
protected:
  attnrt_kv_cache_desc desc(int32_t maxSeqs = 4, int32_t capacity = 40,
                            int32_t numPages = 24) const {
    return kvDesc(std::get<0>(GetParam()), std::get<1>(GetParam()), maxSeqs,
                  capacity, numPages);
  }
};

// Two sequences filled in interleaved random chunks (1 to 9 tokens) read back
// as the concatenation of their chunks, and the view holds each token where
// the layout says (through the block table when paged).
TEST_P(KvCacheTest, ChunkedAppendsReadBackAndViewLayout) {
  std::mt19937 rng(11);
  KvHarness h(desc());
  int32_t a = h.create(), b = h.create();
  TokenModel tokens = h.random(70, rng);
  size_t next = 0;
  while (next < tokens.size()) {
    size_t count = std::min<size_t>(1 + rng() % 9, tokens.size() - next);
    int32_t seq = rng() % 2 ? a : b;
    if (h.model[seq].size() + count > 40)
      seq = seq == a ? b : a;
    ASSERT_OK(h.append(seq, tokens, next, count));
    next += count;
  }
  h.checkContents();
  attnrt_kv_view v = h.view();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(v.key) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(v.value) % 64, 0u);
  EXPECT_EQ(v.block_table == nullptr, !h.paged());
  // Reading a middle range gives just those tokens.
  int32_t length = int32_t(h.model[a].size());
  ASSERT_GT(length, 6);
  Bytes k(size_t(kHeads) * 4 * h.keyRow()),
      val(size_t(kHeads) * 4 * h.valueRow());
  ASSERT_OK(attnrt_kv_read(h.cache, a, 3, 4, k.data(), val.data()));
  EXPECT_EQ(k, packTokens(h.model[a].key, 3, 4, kHeads));
  EXPECT_EQ(val, packTokens(h.model[a].value, 3, 4, kHeads));
}

// used_bytes counts live tokens (contiguous) or pages in use (paged);
// free_pages is -1 for contiguous caches; reserved_bytes covers the arrays.
TEST_P(KvCacheTest, MemoryAccounting) {
  std::mt19937 rng(12);
  KvHarness h(desc());
  attnrt_cache_memory m = h.memory();
  size_t tokenBytes = kHeads * (h.keyRow() + h.valueRow());
  size_t slabRows = h.paged() ? size_t(24 * kPage) : size_t(4 * 40);
  EXPECT_GE(m.reserved_bytes, slabRows * tokenBytes);
  EXPECT_EQ(m.used_bytes, 0u);
  EXPECT_EQ(m.free_pages, h.paged() ? 24 : -1);
  int32_t a = h.create();
  ASSERT_OK(h.append(a, h.random(7, rng)));
  m = h.memory();
  EXPECT_EQ(m.used_bytes, (h.paged() ? 2 * kPage : 7) * tokenBytes);
  EXPECT_EQ(m.free_pages, h.paged() ? 22 : -1);
  EXPECT_EQ(h.memory().reserved_bytes, m.reserved_bytes);
}

// Truncating and appending again equals never having appended the dropped
// tokens, across page boundaries and back into a partial page.
TEST_P(KvCacheTest, TruncateThenAppendEqualsNeverAppended) {
  std::mt19937 rng(13);
  KvHarness h(desc());
  TokenModel x = h.random(12, rng), y = h.random(9, rng), z = h.random(6, rng);
  int32_t a = h.create(), b = h.create();
  ASSERT_OK(h.append(a, x));
  ASSERT_OK(h.append(a, y));
  ASSERT_OK(h.truncate(a, 12));
  ASSERT_OK(h.append(a, z));
  ASSERT_OK(h.append(b, x));
  ASSERT_OK(h.append(b, z));
  EXPECT_EQ(h.read(a), h.read(b));
  h.checkContents();
  if (h.paged()) {
    h.checkPages();
    // 18 tokens each: 4 pages each, 8 in use.
    EXPECT_EQ(h.memory().free_pages, 24 - 8);
  }
  // Truncate to 0 and refill.
  ASSERT_OK(h.truncate(a, 0));
  ASSERT_OK(h.append(a, y));
  h.checkContents();
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, KvCacheTest,
    ::testing::Combine(::testing::Values(ATTNRT_KV_CONTIGUOUS, ATTNRT_KV_PAGED),
                       ::testing::Values(ATTNRT_F32, ATTNRT_F16, ATTNRT_BF16)),
    [](const auto &info) {
      return std::string(std::get<0>(info.param) == ATTNRT_KV_PAGED
                             ? "Paged"
                             : "Contiguous") +
             "_" + dtypeName(std::get<1>(info.param));
    });

// A forked child shares the parent's pages; the first append to either side
// into the shared partial last page copies that page, full pages stay
// shared, and neither side sees the other's new tokens.
TEST(KvPagedCache, ForkSharesPagesAndDivergesByCopyOnWrite) {
  std::mt19937 rng(21);
  KvHarness h(kvDesc(ATTNRT_KV_PAGED, ATTNRT_BF16, 4, 40, 12));
  int32_t parent = h.create();
  ASSERT_OK(h.append(parent, h.random(12, rng))); // pages: 5 + 5 + 2
  EXPECT_EQ(h.memory().free_pages, 9);
  int32_t child = -1;
  ASSERT_OK(h.fork(parent, child));
  EXPECT_EQ(h.memory().free_pages, 9) << "fork must share, not copy";
  attnrt_kv_view v = h.view();
  const int32_t pps = h.pagesPerSeq();
  for (int32_t p = 0; p < 3; ++p)
    EXPECT_EQ(v.block_table[child * pps + p], v.block_table[parent * pps + p]);

  // Child appends 2 tokens into the shared partial page: one copy, no more.
  ASSERT_OK(h.append(child, h.random(2, rng)));
  EXPECT_EQ(h.memory().free_pages, 8);
  EXPECT_EQ(v.block_table[child * pps + 0], v.block_table[parent * pps + 0]);
  EXPECT_EQ(v.block_table[child * pps + 1], v.block_table[parent * pps + 1]);
  EXPECT_NE(v.block_table[child * pps + 2], v.block_table[parent * pps + 2]);
  // The parent's partial page is its own now: appending 3 fills it in place
  // and 1 more opens a fresh page.
  ASSERT_OK(h.append(parent, h.random(4, rng)));
  EXPECT_EQ(h.memory().free_pages, 7);
  h.checkContents();
  h.checkPages();
}

// A child forked at a partial page keeps its content when the parent
// appends, and the parent's copy-on-write needs a free page: with none the
// append is refused and nothing changes.
TEST(KvPagedCache, CopyOnWriteOfSharedPartialPage) {
  std::mt19937 rng(22);
  KvHarness h(kvDesc(ATTNRT_KV_PAGED, ATTNRT_F16, 4, 20, 3));
  int32_t parent = h.create();
  ASSERT_OK(h.append(parent, h.random(7, rng))); // 2 pages, 1 free
  int32_t child = -1;
  ASSERT_OK(h.fork(parent, child));
  int32_t other = h.create();
  ASSERT_OK(h.append(other, h.random(1, rng))); // the last free page
  ASSERT_EQ(h.memory().free_pages, 0);
  TokenModel one = h.random(1, rng);
  expectRefused(h, ATTNRT_CACHE_FULL,
                {"attnrt_kv_append",
                 "needs 1 free pages (one for a copy of its shared last page)",
                 "0 of 3"},
                [&] { return h.append(parent, one); });
  ASSERT_OK(h.release(other));
  ASSERT_OK(h.append(parent, one));
  EXPECT_EQ(h.memory().free_pages, 0);
  h.checkContents();
  h.checkPages();
  // A child truncated back into a shared full page copies it on its next
  // append, and the parent still reads its own tokens.
  ASSERT_OK(h.release(child)); // frees the page only the child held
  EXPECT_EQ(h.memory().free_pages, 1);
  ASSERT_OK(h.fork(parent, child));
  ASSERT_OK(h.truncate(child, 3));
  EXPECT_EQ(h.memory().free_pages, 1) << "the parent still holds page 2";
  ASSERT_OK(h.append(child, h.random(2, rng)));
  EXPECT_EQ(h.memory().free_pages, 0);
  h.checkContents();
  h.checkPages();
  ASSERT_OK(h.release(parent));
  EXPECT_EQ(h.memory().free_pages, 2);
  h.checkContents();
  h.checkPages();
}

// Pages go back to the free list only when their last user releases them.
TEST(KvPagedCache, ReleaseFreesPagesOfTheLastUser) {
  std::mt19937 rng(23);
  KvHarness h(kvDesc(ATTNRT_KV_PAGED, ATTNRT_F32, 4, 20, 10));
  int32_t parent = h.create();
  ASSERT_OK(h.append(parent, h.random(10, rng)));
  int32_t child = -1, grandchild = -1;
  ASSERT_OK(h.fork(parent, child));
  ASSERT_OK(h.fork(child, grandchild));
  ASSERT_OK(h.append(grandchild, h.random(3, rng)));
  EXPECT_EQ(h.memory().free_pages, 7);
  ASSERT_OK(h.release(parent));
  EXPECT_EQ(h.memory().free_pages, 7);
  h.checkContents();
  ASSERT_OK(h.release(grandchild));
  EXPECT_EQ(h.memory().free_pages, 8);
  h.checkContents();
  ASSERT_OK(h.release(child));
  EXPECT_EQ(h.memory().free_pages, 10);
  EXPECT_EQ(h.memory().used_bytes, 0u);
  h.checkPages();
}

// The same operations on a paged and a contiguous cache read back the same.
TEST(KvPagedCache, PagedEqualsContiguous) {
  std::mt19937 rng(24);
  KvHarness paged(kvDesc(ATTNRT_KV_PAGED, ATTNRT_BF16, 5, 25, 25));
  KvHarness flat(kvDesc(ATTNRT_KV_CONTIGUOUS, ATTNRT_BF16, 5, 25, 0));
  for (int op = 0; op < 400; ++op) {
    std::vector<int32_t> live;
    for (const auto &entry : flat.model)
      live.push_back(entry.first);
    int kind = int(rng() % 10);
    if (live.empty() || kind == 0) {
      if (live.size() < 5) {
        ASSERT_EQ(paged.create(), flat.create());
      }
      continue;
    }
    int32_t seq = live[rng() % live.size()];
    int32_t length = int32_t(flat.model[seq].size());
    if (kind < 6) {
      size_t count = std::min<size_t>(1 + rng() % 7, size_t(25 - length));
      if (count == 0)
        continue;
      TokenModel t = flat.random(count, rng);
      ASSERT_EQ(paged.append(seq, t), flat.append(seq, t));
    } else if (kind < 8) {
      int32_t target = int32_t(rng() % uint32_t(length + 1));
      ASSERT_OK(paged.truncate(seq, target));
      ASSERT_OK(flat.truncate(seq, target));
    } else if (kind == 8 && live.size() < 5) {
      int32_t a = -1, b = -1;
      ASSERT_OK(paged.fork(seq, a));
      ASSERT_OK(flat.fork(seq, b));
      ASSERT_EQ(a, b);
    } else {
      ASSERT_OK(paged.release(seq));
      ASSERT_OK(flat.release(seq));
    }
    for (int32_t s : live) {
      if (flat.model.count(s)) {
        ASSERT_EQ(paged.read(s), flat.read(s)) << "op " << op;
      }
    }
  }
  paged.checkContents();
  flat.checkContents();
  paged.checkPages();
}

// Every refused call names the function and the offending value, and leaves
// the whole observable state (arrays, lengths, tables, memory, read-back)
// as it was.
TEST(KvCacheErrors, RefusedCallsChangeNothing) {
  for (attnrt_kv_layout layout : {ATTNRT_KV_CONTIGUOUS, ATTNRT_KV_PAGED}) {
    SCOPED_TRACE(layout == ATTNRT_KV_PAGED ? "paged" : "contiguous");
    std::mt19937 rng(31);
    KvHarness h(kvDesc(layout, ATTNRT_F32, 3, 20, 6));
    int32_t a = h.create(), b = h.create();
    ASSERT_OK(h.append(a, h.random(13, rng)));
    ASSERT_OK(h.append(b, h.random(7, rng)));
    int32_t child = -1;
    ASSERT_OK(h.fork(a, child));
    TokenModel t = h.random(10, rng);
    Bytes k = packTokens(t.key, 0, 10, kHeads);
    Bytes v = packTokens(t.value, 0, 10, kHeads);
    Bytes out(4096);
    int32_t dummy = -1;
    attnrt_kv_cache *c = h.cache;

    expectRefused(
        h, ATTNRT_INVALID_ARGUMENT,
        {"attnrt_kv_append: sequence 0 has 13 of 20 tokens; "
         "appending 10 would exceed the capacity"},
        [&] { return attnrt_kv_append(c, a, 10, k.data(), v.data()); });
    expectRefused(
        h, ATTNRT_INVALID_ARGUMENT, {"tokens must be positive, got 0"},
        [&] { return attnrt_kv_append(c, a, 0, k.data(), v.data()); });
    expectRefused(h, ATTNRT_INVALID_ARGUMENT, {"got -2"}, [&] {
      return attnrt_kv_append(c, a, -2, k.data(), v.data());
    });
    expectRefused(h, ATTNRT_INVALID_ARGUMENT, {"NULL key"},
                  [&] { return attnrt_kv_append(c, a, 1, nullptr, v.data()); });
    expectRefused(h, ATTNRT_INVALID_ARGUMENT, {"NULL value"},
                  [&] { return attnrt_kv_append(c, a, 1, k.data(), nullptr); });
    expectRefused(
        h, ATTNRT_INVALID_ARGUMENT, {"sequence 3 is outside [0, 3)"},
        [&] { return attnrt_kv_append(c, 3, 1, k.data(), v.data()); });
    expectRefused(h, ATTNRT_INVALID_ARGUMENT, {"sequence -1"},
                  [&] { return attnrt_kv_truncate(c, -1, 0); });
    expectRefused(h, ATTNRT_INVALID_ARGUMENT,
                  {"attnrt_kv_truncate", "of 7 tokens to 8"},
                  [&] { return attnrt_kv_truncate(c, b, 8); });
    expectRefused(h, ATTNRT_INVALID_ARGUMENT, {"to -1"},
                  [&] { return attnrt_kv_truncate(c, b, -1); });
    expectRefused(h, ATTNRT_CACHE_FULL,
                  {"attnrt_kv_seq_create", "all 3 sequence slots"},
                  [&] { return attnrt_kv_seq_create(c, &dummy); });
    expectRefused(h, ATTNRT_CACHE_FULL, {"attnrt_kv_fork", "all 3"},
                  [&] { return attnrt_kv_fork(c, a, &dummy); });
    expectRefused(h, ATTNRT_INVALID_ARGUMENT, {"NULL child"},
                  [&] { return attnrt_kv_fork(c, a, nullptr); });
    expectRefused(
        h, ATTNRT_INVALID_ARGUMENT, {"attnrt_kv_read", "[5, 5 + 3)"},
        [&] { return attnrt_kv_read(c, b, 5, 3, out.data(), out.data()); });
    expectRefused(h, ATTNRT_INVALID_ARGUMENT, {"[-1, -1 + 2)"}, [&] {
      return attnrt_kv_read(c, b, -1, 2, out.data(), out.data());
    });
    expectRefused(h, ATTNRT_INVALID_ARGUMENT, {"NULL length"},
                  [&] { return attnrt_kv_length(c, a, nullptr); });
    expectRefused(h, ATTNRT_INVALID_ARGUMENT, {"NULL memory"},
                  [&] { return attnrt_kv_memory(c, nullptr); });
    expectRefused(h, ATTNRT_INVALID_ARGUMENT, {"NULL view"},
                  [&] { return attnrt_kv_view_get(c, nullptr); });
    expectRefused(h, ATTNRT_INVALID_ARGUMENT, {"NULL seq"},
                  [&] { return attnrt_kv_seq_create(c, nullptr); });
    EXPECT_EQ(attnrt_kv_append(nullptr, a, 1, k.data(), v.data()),
              ATTNRT_INVALID_ARGUMENT);
    EXPECT_NE(std::string(attnrt_last_error()).find("NULL cache"),
              std::string::npos);
    if (layout == ATTNRT_KV_PAGED) {
      // 13 + 7 tokens use 3 + 2 pages (the child shares a's three): one is
      // free, and b's append of 9 needs two.
      expectRefused(
          h, ATTNRT_CACHE_FULL,
          {"appending 9 tokens to sequence 1 needs 2 free pages",
           "1 of 6 are free"},
          [&] { return attnrt_kv_append(c, b, 9, k.data(), v.data()); });
      // The child's append into the shared partial page needs its copy plus
      // the pages after it.
      expectRefused(
          h, ATTNRT_CACHE_FULL, {"needs 2 free pages (one for a copy"},
          [&] { return attnrt_kv_append(c, child, 3, k.data(), v.data()); });
    }
    // Released ids are not found, and a double release is refused.
    ASSERT_OK(h.release(child));
    expectRefused(h, ATTNRT_NOT_FOUND,
                  {"attnrt_kv_seq_release", "sequence 2 is not live"},
                  [&] { return attnrt_kv_seq_release(c, child); });
    expectRefused(h, ATTNRT_NOT_FOUND, {"attnrt_kv_append", "not live"}, [&] {
      return attnrt_kv_append(c, child, 1, k.data(), v.data());
    });
    expectRefused(h, ATTNRT_NOT_FOUND, {"attnrt_kv_fork"},
                  [&] { return attnrt_kv_fork(c, child, &dummy); });
    expectRefused(h, ATTNRT_NOT_FOUND, {"attnrt_kv_length"},
                  [&] { return attnrt_kv_length(c, child, &dummy); });
    // A success clears the message.
    ASSERT_OK(attnrt_kv_length(c, a, &dummy));
    EXPECT_STREQ(attnrt_last_error(), "");
    h.checkContents();
  }
}

// Bad descriptors are refused with the field, its value and the rule.
TEST(KvCacheErrors, CreateValidatesTheDescriptor) {
  struct Case {
    const char *what;
    void (*edit)(attnrt_kv_cache_desc &);
    const char *fragment;
  };
  const Case cases[] = {
      {"layout", [](attnrt_kv_cache_desc &d) { setRawEnum(d.layout, 2); },
       "layout 2"},
      {"dtype", [](attnrt_kv_cache_desc &d) { setRawEnum(d.dtype, 7); },
       "dtype 7"},
      {"max_seqs", [](attnrt_kv_cache_desc &d) { d.max_seqs = 0; },
       "max_seqs must be positive, got 0"},
      {"kv_heads", [](attnrt_kv_cache_desc &d) { d.kv_heads = -3; },
       "kv_heads must be positive, got -3"},
      {"head_dim", [](attnrt_kv_cache_desc &d) { d.head_dim = 0; }, "head_dim"},
      {"value_dim", [](attnrt_kv_cache_desc &d) { d.value_dim = 0; },
       "value_dim"},
      {"capacity", [](attnrt_kv_cache_desc &d) { d.capacity = 0; }, "capacity"},
      {"page multiple", [](attnrt_kv_cache_desc &d) { d.capacity = 23; },
       "capacity 23 is not a multiple of page_size 5"},
      {"page_size", [](attnrt_kv_cache_desc &d) { d.page_size = 0; },
       "page_size must be positive, got 0"},
      {"num_pages", [](attnrt_kv_cache_desc &d) { d.num_pages = -1; },
       "num_pages must be positive, got -1"},
      {"overflow",
       [](attnrt_kv_cache_desc &d) {
         d.num_pages = INT32_MAX;
         d.page_size = 1 << 20;
         d.capacity = 1 << 20;
         d.head_dim = INT32_MAX;
       },
       "overflows size_t"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.what);
    attnrt_kv_cache_desc d = kvDesc(ATTNRT_KV_PAGED, ATTNRT_F16, 2, 20, 4);
    c.edit(d);
    attnrt_kv_cache *cache = reinterpret_cast<attnrt_kv_cache *>(0x1);
    EXPECT_EQ(attnrt_kv_cache_create(&d, &cache), ATTNRT_INVALID_ARGUMENT);
    EXPECT_EQ(cache, reinterpret_cast<attnrt_kv_cache *>(0x1));
    std::string message = attnrt_last_error();
    EXPECT_NE(message.find("attnrt_kv_cache_create: "), std::string::npos)
        << message;
    EXPECT_NE(message.find(c.fragment), std::string::npos) << message;
  }
  attnrt_kv_cache_desc d = kvDesc(ATTNRT_KV_CONTIGUOUS, ATTNRT_F32, 2, 20, 0);
  d.page_size = 5;
  attnrt_kv_cache *cache = nullptr;
  EXPECT_EQ(attnrt_kv_cache_create(&d, &cache), ATTNRT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(attnrt_last_error()).find("page_size 0"),
            std::string::npos);
  EXPECT_EQ(attnrt_kv_cache_create(nullptr, &cache), ATTNRT_INVALID_ARGUMENT);
  EXPECT_EQ(attnrt_kv_cache_create(&d, nullptr), ATTNRT_INVALID_ARGUMENT);
#ifndef __SANITIZE_ADDRESS__ // ASan aborts on such a request by default
  // A pool too large for memory is OUT_OF_MEMORY, not a crash.
  d = kvDesc(ATTNRT_KV_CONTIGUOUS, ATTNRT_F32, 1 << 20, 1 << 20, 0);
  d.head_dim = 1 << 10; // 12 PiB of keys
  EXPECT_EQ(attnrt_kv_cache_create(&d, &cache), ATTNRT_OUT_OF_MEMORY);
  EXPECT_NE(std::string(attnrt_last_error()).find("cannot allocate"),
            std::string::npos);
  EXPECT_EQ(cache, nullptr);
#endif
  attnrt_kv_cache_destroy(nullptr);
}

// 3000 random operations (create, append, truncate, fork, release, read;
// some expected to fail) on a small paged pool, checked against the token
// model: the outcome of each call is predicted from the model and the block
// tables, contents and lengths match, and pages balance after every call.
TEST(KvPagedCache, RandomisedOperationsAgainstModel) {
  std::mt19937 rng(2024);
  const int32_t maxSeqs = 6, capacity = 30, numPages = 22;
  KvHarness h(
      kvDesc(ATTNRT_KV_PAGED, ATTNRT_BF16, maxSeqs, capacity, numPages));
  std::map<std::string, int> outcomes;
  auto pickLive = [&]() -> int32_t {
    auto it = h.model.begin();
    std::advance(it, rng() % h.model.size());
    return it->first;
  };
  for (int op = 0; op < 3000; ++op) {
    SCOPED_TRACE("op " + std::to_string(op));
    int kind = int(rng() % 100);
    if (h.model.empty() || kind < 10) {
      int32_t seq = -1;
      attnrt_status expected =
          int32_t(h.model.size()) < maxSeqs ? ATTNRT_OK : ATTNRT_CACHE_FULL;
      attnrt_status s = attnrt_kv_seq_create(h.cache, &seq);
      ASSERT_EQ(s, expected) << attnrt_last_error();
      if (s == ATTNRT_OK) {
        ASSERT_EQ(h.model.count(seq), 0u);
        h.model[seq] = {};
      }
      ++outcomes[s == ATTNRT_OK ? "create" : "create refused"];
    } else if (kind < 50) {
      bool dead = rng() % 10 == 0;
      int32_t seq = dead ? int32_t(rng() % (maxSeqs + 2)) - 1 : pickLive();
      int32_t tokens = rng() % 25 == 0 ? 0 : int32_t(1 + rng() % 12);
      attnrt_status expected = ATTNRT_OK;
      if (seq < 0 || seq >= maxSeqs)
        expected = ATTNRT_INVALID_ARGUMENT;
      else if (!h.model.count(seq))
        expected = ATTNRT_NOT_FOUND;
      else if (tokens <= 0 || int32_t(h.model[seq].size()) + tokens > capacity)
        expected = ATTNRT_INVALID_ARGUMENT;
      else if (h.pagesNeeded(seq, tokens) > h.memory().free_pages)
        expected = ATTNRT_CACHE_FULL;
      TokenModel t = h.random(size_t(std::max(tokens, 1)), rng);
      if (expected == ATTNRT_OK) {
        ASSERT_OK(h.append(seq, t, 0, size_t(tokens)));
        ++outcomes["append"];
      } else {
        Bytes k = packTokens(t.key, 0, 1, kHeads),
              v = packTokens(t.value, 0, 1, kHeads);
        k.resize(k.size() * 12);
        v.resize(v.size() * 12);
        expectRefused(h, expected, {"attnrt_kv_append"}, [&] {
          return attnrt_kv_append(h.cache, seq, tokens, k.data(), v.data());
        });
        ++outcomes["append refused " + std::to_string(int(expected))];
      }
    } else if (kind < 65) {
      int32_t seq = pickLive();
      int32_t length = int32_t(h.model[seq].size());
      int32_t target = int32_t(rng() % uint32_t(length + 3)) - 1;
      if (target >= 0 && target <= length) {
        ASSERT_OK(h.truncate(seq, target));
        ++outcomes["truncate"];
      } else {
        expectRefused(h, ATTNRT_INVALID_ARGUMENT, {"attnrt_kv_truncate"},
                      [&] { return attnrt_kv_truncate(h.cache, seq, target); });
        ++outcomes["truncate refused"];
      }
    } else if (kind < 78) {
      int32_t parent = pickLive(), child = -1;
      if (int32_t(h.model.size()) < maxSeqs) {
        ASSERT_OK(h.fork(parent, child));
        ++outcomes["fork"];
      } else {
        expectRefused(h, ATTNRT_CACHE_FULL, {"attnrt_kv_fork"},
                      [&] { return attnrt_kv_fork(h.cache, parent, &child); });
        ++outcomes["fork refused"];
      }
    } else if (kind < 90) {
      int32_t seq = rng() % 8 == 0 ? int32_t(rng() % maxSeqs) : pickLive();
      if (h.model.count(seq)) {
        ASSERT_OK(h.release(seq));
        ++outcomes["release"];
      } else {
        expectRefused(h, ATTNRT_NOT_FOUND, {"attnrt_kv_seq_release"},
                      [&] { return attnrt_kv_seq_release(h.cache, seq); });
        ++outcomes["release refused"];
      }
    } else {
      int32_t seq = pickLive();
      const TokenModel &m = h.model[seq];
      int32_t start = int32_t(rng() % (m.size() + 1));
      int32_t count = int32_t(rng() % (m.size() - size_t(start) + 1));
      Bytes k(size_t(kHeads) * size_t(count) * h.keyRow() + 1);
      Bytes v(size_t(kHeads) * size_t(count) * h.valueRow() + 1);
      ASSERT_OK(attnrt_kv_read(h.cache, seq, start, count, k.data(), v.data()));
      k.pop_back();
      v.pop_back();
      ASSERT_EQ(k, packTokens(m.key, size_t(start), size_t(count), kHeads));
      ASSERT_EQ(v, packTokens(m.value, size_t(start), size_t(count), kHeads));
      ++outcomes["read"];
    }
    ASSERT_NO_FATAL_FAILURE(h.checkPages());
    attnrt_kv_view v = h.view();
    for (int32_t s = 0; s < maxSeqs; ++s)
      ASSERT_EQ(v.lengths[s],
                h.model.count(s) ? int32_t(h.model.at(s).size()) : 0);
    if (op % 25 == 0) {
      ASSERT_NO_FATAL_FAILURE(h.checkContents());
    }
  }
  h.checkContents();
  // The run reached every path, the refusals included (by status: 1 invalid
  // argument, 2 not found, 7 cache full).
  for (const char *path :
       {"create", "create refused", "append", "append refused 1",
        "append refused 2", "append refused 7", "truncate", "truncate refused",
        "fork", "fork refused", "release", "release refused", "read"})
    EXPECT_GT(outcomes[path], 0) << path;
}

// Calls on one cache from several threads are serialised: each thread fills
// its own sequence one token at a time and reads back exactly its tokens.
TEST(KvPagedCache, ConcurrentAppendsToDifferentSequences) {
  const int kThreads = 4, kTokens = 60;
  KvHarness h(kvDesc(ATTNRT_KV_PAGED, ATTNRT_F32, kThreads, kTokens,
                     kThreads * kTokens / kPage));
  std::vector<int32_t> seqs;
  std::vector<TokenModel> tokens;
  for (int i = 0; i < kThreads; ++i) {
    std::mt19937 rng(100 + i);
    seqs.push_back(h.create());
    tokens.push_back(h.random(kTokens, rng));
  }
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      for (int t = 0; t < kTokens; ++t) {
        Bytes k = packTokens(tokens[i].key, size_t(t), 1, kHeads);
        Bytes v = packTokens(tokens[i].value, size_t(t), 1, kHeads);
        failures[i] += attnrt_kv_append(h.cache, seqs[i], 1, k.data(),
                                        v.data()) != ATTNRT_OK;
      }
    });
  for (std::thread &t : threads)
    t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(failures[i], 0);
    h.model[seqs[i]] = tokens[i];
  }
  h.checkContents();
  h.checkPages();
  EXPECT_EQ(h.memory().free_pages, 0);
}

} // namespace
