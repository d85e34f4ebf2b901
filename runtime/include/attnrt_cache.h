/*===- attnrt_cache.h - cache buffers for streaming decode --------*- C -*-===*
 *
 * Caches that a serving loop keeps between kernel calls: KV caches
 * (contiguous and paged), scalar-quantised KV caches (int8/int4, quantised on
 * append), PQ key caches (encoded on append) and recurrent-state caches
 * (linear attention, delta rule). Compiled kernels read a cache through a
 * view: plain arrays whose layouts are the operand layouts of the dialect's
 * ops (docs/Caches.md), so a kernel never needs a copy into a contiguous
 * tensor.
 *
 * Conventions shared by every cache:
 * - A cache has `max_seqs` sequence slots. A sequence id is the slot index
 *   [0, max_seqs); ids are handed out by *_seq_create / *_fork and become
 *   invalid after *_seq_release. Batched kernels address slots as the batch
 *   axis; a free slot has length 0.
 * - Every call returns a status. On failure attnrt_last_error() names the
 *   problem and the cache is exactly as before the call (contents, lengths,
 *   page tables, free lists). ATTNRT_INVALID_ARGUMENT: a bad argument or
 *   descriptor field, or a sequence id outside [0, max_seqs);
 *   ATTNRT_NOT_FOUND: an id whose slot is not live (never created, or
 *   released); ATTNRT_CACHE_FULL: no free slot or not enough free pages;
 *   ATTNRT_OUT_OF_MEMORY: an allocation at create time failed.
 * - Rows past a sequence's length hold unspecified (stale) data; kernels
 *   bound their reads by the lengths arrays.
 * - Token inputs are arrays in the cache's element type with the layout
 *   [heads, tokens, dim] (one batch row of the ops' [B, H, L, D] layout).
 * - Memory: a cache lives in host memory (ATTNRT_MEMORY_HOST, the default of
 *   a zeroed descriptor) or in the memory of the runtime's CUDA device
 *   (ATTNRT_MEMORY_CUDA, see attnrt_cuda.h). A CUDA cache's view holds
 *   device pointers only (lengths and block tables included), so kernels
 *   compiled for CUDA read it in place; its token inputs and outputs (append,
 *   read, state read) may be host or device memory. Its copies run on the
 *   calling thread's current stream (attnrt_cuda_set_stream) and have
 *   finished when the call returns, so they are ordered after kernels queued
 *   on that stream before the call. Bookkeeping (lengths, block tables,
 *   reference counts) is kept on the host and published to the device by
 *   every call that changes it; quantisation (int8/int4) and PQ encoding run
 *   on the host through small staging buffers allocated at create time.
 *   Creating a CUDA cache without a usable driver fails with
 *   ATTNRT_UNAVAILABLE. A device failure during a call returns
 *   ATTNRT_DEVICE_ERROR; the cache's contents are then unspecified (the CUDA
 *   context is usually unusable after such an error).
 * - Thread safety: calls on one cache are serialised by a lock inside the
 *   cache, so different threads may append to or step different sequences at
 *   once. A kernel that reads a view must not run while another thread
 *   changes a sequence that the kernel reads; the caller orders those.
 *
 *===----------------------------------------------------------------------===*/

#ifndef ATTNRT_CACHE_H
#define ATTNRT_CACHE_H

#include "attnrt.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum attnrt_dtype {
  ATTNRT_F32 = 0,
  ATTNRT_F16 = 1,
  ATTNRT_BF16 = 2,
} attnrt_dtype;

typedef enum attnrt_memory {
  ATTNRT_MEMORY_HOST = 0,
  ATTNRT_MEMORY_CUDA = 1,
} attnrt_memory;

/* Bytes held by a cache (device and host allocations together). */
typedef struct attnrt_cache_memory {
  size_t reserved_bytes; /* everything allocated at create time */
  size_t used_bytes;     /* bytes that hold live tokens or states */
  int32_t free_pages;    /* paged KV caches; -1 for other caches */
} attnrt_cache_memory;

/*===----------------------------------------------------------------------===*
 * KV cache (softmax family): contiguous or paged
 *===----------------------------------------------------------------------===*/

typedef enum attnrt_kv_layout {
  /* key   [max_seqs, kv_heads, capacity, head_dim]
   * value [max_seqs, kv_heads, capacity, value_dim] */
  ATTNRT_KV_CONTIGUOUS = 0,
  /* key   [num_pages, kv_heads, page_size, head_dim]
   * value [num_pages, kv_heads, page_size, value_dim]
   * block_table [max_seqs, capacity / page_size] (i32): token j of sequence
   * s lives in page block_table[s][j / page_size] at row j % page_size.
   * Entries past a sequence's last page are 0 (a valid page index). A page
   * is shared by every sequence whose table names it (fork shares the
   * parent's pages; an append into a shared page copies it first) and
   * returns to the free list when the last sequence releases it. */
  ATTNRT_KV_PAGED = 1,
} attnrt_kv_layout;

typedef struct attnrt_kv_cache_desc {
  attnrt_kv_layout layout;
  attnrt_dtype dtype;
  int32_t max_seqs;
  int32_t kv_heads;
  int32_t head_dim;
  int32_t value_dim;
  int32_t capacity;  /* tokens per sequence; paged: a multiple of page_size */
  int32_t page_size; /* paged only (0 otherwise) */
  int32_t num_pages; /* paged only (0 otherwise): pages in the pool */
  attnrt_memory memory;
} attnrt_kv_cache_desc;

typedef struct attnrt_kv_view {
  void *key;
  void *value;
  const int32_t *lengths;     /* [max_seqs] */
  const int32_t *block_table; /* paged only, else NULL */
} attnrt_kv_view;

typedef struct attnrt_kv_cache attnrt_kv_cache;

attnrt_status attnrt_kv_cache_create(const attnrt_kv_cache_desc *desc,
                                     attnrt_kv_cache **cache);
void attnrt_kv_cache_destroy(attnrt_kv_cache *cache);
/* Claims a free slot for a new, empty sequence. */
attnrt_status attnrt_kv_seq_create(attnrt_kv_cache *cache, int32_t *seq);
/* Frees the slot (and, paged, the pages no other sequence uses). */
attnrt_status attnrt_kv_seq_release(attnrt_kv_cache *cache, int32_t seq);
/* Appends `tokens` tokens: key [kv_heads, tokens, head_dim], value
 * [kv_heads, tokens, value_dim]. A decode step appends one token. */
attnrt_status attnrt_kv_append(attnrt_kv_cache *cache, int32_t seq,
                               int32_t tokens, const void *key,
                               const void *value);
/* Shortens a sequence to `length` tokens (rollback). */
attnrt_status attnrt_kv_truncate(attnrt_kv_cache *cache, int32_t seq,
                                 int32_t length);
/* A new sequence with the parent's tokens (paged: sharing its pages). */
attnrt_status attnrt_kv_fork(attnrt_kv_cache *cache, int32_t parent,
                             int32_t *child);
attnrt_status attnrt_kv_length(attnrt_kv_cache *cache, int32_t seq,
                               int32_t *length);
attnrt_status attnrt_kv_memory(attnrt_kv_cache *cache,
                               attnrt_cache_memory *memory);
attnrt_status attnrt_kv_view_get(attnrt_kv_cache *cache, attnrt_kv_view *view);
/* Copies tokens [start, start + tokens) out in the append layout
 * (tokens >= 0; 0 copies nothing). */
attnrt_status attnrt_kv_read(attnrt_kv_cache *cache, int32_t seq,
                             int32_t start, int32_t tokens, void *key,
                             void *value);

/*===----------------------------------------------------------------------===*
 * Scalar-quantised KV cache (attn.quant_attention's operands), contiguous
 *
 * Keys are quantised per channel over groups of `group_size` tokens, values
 * per token over groups of `group_size` channels. The newest len % group_size
 * tokens (the residual window, KIVI) stay in full precision until their key
 * group is complete; then the group is quantised. Values are quantised with
 * their key group, so the quantised prefix always has
 * quantized_length = len - len % group_size tokens.
 *
 *   key_codes   [max_seqs, kv_heads, capacity, head_dim']  (i8)
 *   key_scale   [max_seqs, kv_heads, capacity / group_size, head_dim]
 *   value_codes [max_seqs, kv_heads, capacity, value_dim']  (i8)
 *   value_scale [max_seqs, kv_heads, capacity, ceil(value_dim / group_size)]
 *   key_zero, value_zero: the scale shapes, when zero_points
 *   residual_key   [max_seqs, kv_heads, group_size, head_dim]  (dtype)
 *   residual_value [max_seqs, kv_heads, group_size, value_dim] (dtype)
 *   quantized_lengths, residual_lengths [max_seqs] (i32)
 * with dim' = dim for 8 bits and dim / 2 for 4 bits (two codes per byte, low
 * nibble first). Without zero points codes are signed, scale = max|x| / qmax
 * (qmax = 127 or 7), code = round-half-even(x / scale) clamped to
 * [-qmax, qmax]; with zero points codes are unsigned, zero = min x,
 * scale = (max x - min x) / (2^bits - 1), code = round-half-even((x - zero) /
 * scale) clamped to [0, 2^bits - 1]. A group whose values are all equal gets
 * scale 1 (and zero = that value, or codes 0 when it is 0).
 * Precisely: scale is stored as f32 and the codes are computed in double from
 * that stored scale (and zero), so they are what a kernel dequantising with
 * the stored numbers should see. The "all equal" rule applies where the
 * formula's scale is 0: with zero points when max x = min x (scale 1,
 * zero = that value, codes 0); without zero points when every value is 0
 * (scale 1, codes 0). A constant non-zero group without zero points gets
 * scale |x| / qmax and codes +-qmax. Non-finite inputs are refused.
 *===----------------------------------------------------------------------===*/

typedef struct attnrt_quant_cache_desc {
  attnrt_dtype dtype; /* of the appended tokens and the residual window */
  int32_t max_seqs;
  int32_t kv_heads;
  int32_t head_dim;   /* even for 4 bits */
  int32_t value_dim;  /* even for 4 bits */
  int32_t capacity;   /* a multiple of group_size */
  int32_t bits;       /* 8 or 4 */
  int32_t group_size;
  int32_t zero_points; /* 0 or 1 */
  attnrt_memory memory;
} attnrt_quant_cache_desc;

typedef struct attnrt_quant_view {
  int8_t *key_codes;
  float *key_scale;
  float *key_zero; /* NULL without zero points */
  int8_t *value_codes;
  float *value_scale;
  float *value_zero;
  void *residual_key;
  void *residual_value;
  const int32_t *quantized_lengths;
  const int32_t *residual_lengths;
} attnrt_quant_view;

typedef struct attnrt_quant_cache attnrt_quant_cache;

attnrt_status attnrt_quant_cache_create(const attnrt_quant_cache_desc *desc,
                                        attnrt_quant_cache **cache);
void attnrt_quant_cache_destroy(attnrt_quant_cache *cache);
attnrt_status attnrt_quant_seq_create(attnrt_quant_cache *cache, int32_t *seq);
attnrt_status attnrt_quant_seq_release(attnrt_quant_cache *cache, int32_t seq);
attnrt_status attnrt_quant_append(attnrt_quant_cache *cache, int32_t seq,
                                  int32_t tokens, const void *key,
                                  const void *value);
/* Rollback: allowed to any length >= the quantised length (tokens in the
 * residual window) and to any multiple of group_size below it. */
attnrt_status attnrt_quant_truncate(attnrt_quant_cache *cache, int32_t seq,
                                    int32_t length);
attnrt_status attnrt_quant_fork(attnrt_quant_cache *cache, int32_t parent,
                                int32_t *child);
attnrt_status attnrt_quant_length(attnrt_quant_cache *cache, int32_t seq,
                                  int32_t *length);
attnrt_status attnrt_quant_memory(attnrt_quant_cache *cache,
                                  attnrt_cache_memory *memory);
attnrt_status attnrt_quant_view_get(attnrt_quant_cache *cache,
                                    attnrt_quant_view *view);

/*===----------------------------------------------------------------------===*
 * PQ key cache (attn.pq_attention's operands), contiguous
 *
 *   codes     [max_seqs, kv_heads, capacity, m] (Kc = 256, read as unsigned)
 *             or [max_seqs, kv_heads, capacity, m / 2] (Kc = 16, low nibble
 *             first)
 *   codebooks [kv_heads, m, Kc, head_dim / m] f32 (copied at create)
 *   value     [max_seqs, kv_heads, capacity, value_dim] (dtype)
 * Keys (f32, [kv_heads, tokens, head_dim]) are encoded on append: nearest
 * centroid by squared distance, ties to the lower index (attn.pq_encode).
 * Distances are summed in double; non-finite keys and codebooks are refused.
 *===----------------------------------------------------------------------===*/

typedef struct attnrt_pq_cache_desc {
  attnrt_dtype value_dtype;
  int32_t max_seqs;
  int32_t kv_heads;
  int32_t head_dim;
  int32_t value_dim;
  int32_t capacity;
  int32_t subspaces; /* m, divides head_dim; even for Kc = 16 */
  int32_t centroids; /* Kc: 16 or 256 */
  const float *codebooks; /* host memory */
  attnrt_memory memory;
} attnrt_pq_cache_desc;

typedef struct attnrt_pq_view {
  int8_t *codes;
  const float *codebooks;
  void *value;
  const int32_t *lengths;
} attnrt_pq_view;

typedef struct attnrt_pq_cache attnrt_pq_cache;

attnrt_status attnrt_pq_cache_create(const attnrt_pq_cache_desc *desc,
                                     attnrt_pq_cache **cache);
void attnrt_pq_cache_destroy(attnrt_pq_cache *cache);
attnrt_status attnrt_pq_seq_create(attnrt_pq_cache *cache, int32_t *seq);
attnrt_status attnrt_pq_seq_release(attnrt_pq_cache *cache, int32_t seq);
attnrt_status attnrt_pq_append(attnrt_pq_cache *cache, int32_t seq,
                               int32_t tokens, const float *key,
                               const void *value);
attnrt_status attnrt_pq_truncate(attnrt_pq_cache *cache, int32_t seq,
                                 int32_t length);
attnrt_status attnrt_pq_fork(attnrt_pq_cache *cache, int32_t parent,
                             int32_t *child);
attnrt_status attnrt_pq_length(attnrt_pq_cache *cache, int32_t seq,
                               int32_t *length);
attnrt_status attnrt_pq_memory(attnrt_pq_cache *cache,
                               attnrt_cache_memory *memory);
attnrt_status attnrt_pq_view_get(attnrt_pq_cache *cache, attnrt_pq_view *view);

/*===----------------------------------------------------------------------===*
 * Recurrent-state cache (linear attention: S and z; delta rule: S)
 *
 * Each sequence holds `num_tensors` f32 state tensors (sizes in elements,
 * e.g. heads * F * Dv for S and heads * F for z), zero after create and
 * reset. A step is two-phase: step_begin hands out the current state (to
 * pass as the kernel's state_in) and a separate buffer for the kernel's
 * state_out; step_commit makes the out buffer current and adds the step's
 * tokens to the length; step_abort forgets the step. The last `checkpoints`
 * committed states are kept, so truncate may return to any of those lengths.
 * Precisely: besides the current state, the cache keeps the states the last
 * `checkpoints` commits replaced (the state at the length before each of
 * those commits), so with checkpoints = 1 one step can be rolled back and
 * with 0 truncate only accepts the current length. Truncate to a
 * checkpoint drops the newer ones; reset drops all. Each tensor of a state
 * starts on a 64-byte boundary; `out` holds unspecified data at step_begin
 * (the kernel writes all of it). While a step is open, truncate and reset
 * are refused; fork copies the committed state and checkpoints (the child
 * has no open step) and release drops the step. A step's buffers belong to
 * one sequence, so a batched kernel needs one call per sequence or a copy.
 *===----------------------------------------------------------------------===*/

#define ATTNRT_STATE_MAX_TENSORS 8

typedef struct attnrt_state_cache_desc {
  int32_t max_seqs;
  int32_t num_tensors;
  int64_t tensor_elements[ATTNRT_STATE_MAX_TENSORS];
  int32_t checkpoints; /* >= 0 */
  attnrt_memory memory;
} attnrt_state_cache_desc;

typedef struct attnrt_state_cache attnrt_state_cache;

attnrt_status attnrt_state_cache_create(const attnrt_state_cache_desc *desc,
                                        attnrt_state_cache **cache);
void attnrt_state_cache_destroy(attnrt_state_cache *cache);
attnrt_status attnrt_state_seq_create(attnrt_state_cache *cache, int32_t *seq);
attnrt_status attnrt_state_seq_release(attnrt_state_cache *cache, int32_t seq);
/* Zero state, length 0, no checkpoints. */
attnrt_status attnrt_state_reset(attnrt_state_cache *cache, int32_t seq);
/* in[i] / out[i]: tensor i's current state and the buffer for the next one.
 * Fails when a step of this sequence is already open. */
attnrt_status attnrt_state_step_begin(attnrt_state_cache *cache, int32_t seq,
                                      int32_t tokens, float **in, float **out);
attnrt_status attnrt_state_step_commit(attnrt_state_cache *cache, int32_t seq);
attnrt_status attnrt_state_step_abort(attnrt_state_cache *cache, int32_t seq);
/* To the current length or a checkpointed one. */
attnrt_status attnrt_state_truncate(attnrt_state_cache *cache, int32_t seq,
                                    int32_t length);
attnrt_status attnrt_state_fork(attnrt_state_cache *cache, int32_t parent,
                                int32_t *child);
attnrt_status attnrt_state_length(attnrt_state_cache *cache, int32_t seq,
                                  int32_t *length);
/* Copies tensor `index` of the current state out. */
attnrt_status attnrt_state_read(attnrt_state_cache *cache, int32_t seq,
                                int32_t index, float *dst);
attnrt_status attnrt_state_memory(attnrt_state_cache *cache,
                                  attnrt_cache_memory *memory);

#ifdef __cplusplus
}
#endif

#endif /* ATTNRT_CACHE_H */
