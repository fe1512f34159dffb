// The persistent thread pool under ThreadPool.swift (see quill_gemm.h).
//
// Workers are created once and wait for a job: first spinning briefly on the job generation (a training step runs
// thousands of small kernels back to back, and a futex wake-up costs tens of microseconds), then parked on a
// condition variable. A job is published under the mutex; a worker joins it under the mutex (copying the job and
// counting itself in `active`), then claims items with an atomic counter. The caller works on the items too, then
// closes the job (so no late worker can join) and waits until every worker that joined has left: only then may the
// caller's stack-allocated context go away.
#include "quill_gemm.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

enum { SPIN_ROUNDS = 20000, YIELD_AFTER = 2000 };

/// Waits until `*counter` reaches `target`: spins, then yields the core, so a
/// worker that shares it (an oversubscribed machine) can finish its item.
static void wait_for(_Atomic int64_t *counter, int64_t target) {
    for (int spins = 0; atomic_load_explicit(counter, memory_order_acquire) < target; spins++) {
        if (spins < YIELD_AFTER) CPU_RELAX(); else sched_yield();
    }
}

struct quill_pool {
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    pthread_t *threads;
    int32_t workers;
    _Atomic int32_t busy;            // 1 while a job runs (a second caller runs its items inline)
    _Atomic uint64_t generation;     // incremented when a job is published
    int stop;                        // under mutex
    // The current job (under mutex; `open` is 0 once the caller has closed it).
    int open;
    void (*body)(void *, int64_t);
    void *context;
    int64_t count;
    _Atomic int64_t next;            // next item to claim
    _Atomic int64_t done;            // items finished
    _Atomic int32_t active;          // workers inside the job
};

static void run_items(struct quill_pool *pool, void (*body)(void *, int64_t), void *context, int64_t count) {
    int64_t finished = 0;
    for (;;) {
        const int64_t i = atomic_fetch_add_explicit(&pool->next, 1, memory_order_relaxed);
        if (i >= count) break;
        body(context, i);
        finished++;
    }
    if (finished) atomic_fetch_add_explicit(&pool->done, finished, memory_order_release);
}

static void *worker_main(void *arg) {
    struct quill_pool *pool = arg;
    uint64_t seen = 0;
    for (;;) {
        for (int s = 0; s < SPIN_ROUNDS; s++) {
            if (atomic_load_explicit(&pool->generation, memory_order_acquire) != seen) break;
            CPU_RELAX();
        }
        pthread_mutex_lock(&pool->mutex);
        while (!pool->stop && atomic_load_explicit(&pool->generation, memory_order_relaxed) == seen)
            pthread_cond_wait(&pool->wake, &pool->mutex);
        if (pool->stop) { pthread_mutex_unlock(&pool->mutex); return NULL; }
        seen = atomic_load_explicit(&pool->generation, memory_order_relaxed);
        if (!pool->open) { pthread_mutex_unlock(&pool->mutex); continue; }
        void (*body)(void *, int64_t) = pool->body;
        void *context = pool->context;
        const int64_t count = pool->count;
        atomic_fetch_add_explicit(&pool->active, 1, memory_order_relaxed);
        pthread_mutex_unlock(&pool->mutex);
        run_items(pool, body, context, count);
        atomic_fetch_sub_explicit(&pool->active, 1, memory_order_release);
    }
}

quill_pool *quill_pool_create(int32_t workers) {
    struct quill_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pool->threads = calloc(workers > 0 ? (size_t)workers : 1, sizeof(pthread_t));
    for (int32_t w = 0; w < workers; w++) {
        if (pthread_create(&pool->threads[w], NULL, worker_main, pool) != 0) break;
        pool->workers = w + 1;
    }
    return pool;
}

void quill_pool_destroy(quill_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->mutex);
    pool->stop = 1;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
    for (int32_t w = 0; w < pool->workers; w++) pthread_join(pool->threads[w], NULL);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->mutex);
    free(pool->threads);
    free(pool);
}

void quill_pool_run(quill_pool *pool, int64_t count, void (*body)(void *context, int64_t i), void *context) {
    if (count <= 0) return;
    int32_t idle = 0;
    if (!pool || pool->workers == 0 || count == 1 ||
        !atomic_compare_exchange_strong(&pool->busy, &idle, 1)) {
        for (int64_t i = 0; i < count; i++) body(context, i);
        return;
    }
    pthread_mutex_lock(&pool->mutex);
    pool->body = body; pool->context = context; pool->count = count;
    atomic_store_explicit(&pool->next, 0, memory_order_relaxed);
    atomic_store_explicit(&pool->done, 0, memory_order_relaxed);
    pool->open = 1;
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);

    run_items(pool, body, context, count);
    wait_for(&pool->done, count);

    pthread_mutex_lock(&pool->mutex);
    pool->open = 0;
    pthread_mutex_unlock(&pool->mutex);
    for (int spins = 0; atomic_load_explicit(&pool->active, memory_order_acquire) > 0; spins++) {
        if (spins < YIELD_AFTER) CPU_RELAX(); else sched_yield();
    }
    atomic_store_explicit(&pool->busy, 0, memory_order_release);
}
