/* zhili._cut: jieba's accurate-mode cut (DAG + max-probability route + HMM for unknown
 * runs), ported to C so that a batch of texts comes back as integer ids, not millions of
 * Python strings.
 *
 * It follows jieba 0.42.1 (jieba/__init__.py: cut, get_DAG, calc, __cut_DAG,
 * __cut_DAG_NO_HMM; jieba/finalseg: cut, viterbi) step for step, including its tie-breaking
 * (Python's max over (prob, index) tuples: the later candidate wins a tie) and its floating
 * point order, so the tokens are identical to jieba's for the same FREQ table. The Python
 * side (zhili.segment) builds that table with jieba itself and checks the result against
 * jieba in the test suite.
 *
 * Cutter(freq, total, start_p, trans_p, emit_p, force_split)
 *     freq: jieba's Tokenizer.FREQ (word or prefix -> count); total: Tokenizer.total;
 *     the HMM tables of jieba.finalseg; force_split: finalseg.Force_Split_Words.
 * Cutter.cut_batch(texts, hmm) -> (vocab, ids, lengths)
 *     vocab: the batch's word types in first-seen order; ids: bytes of int32 indexes into
 *     vocab, one per token; lengths: bytes of int64, tokens per text.
 * Cutter.segment_lines(norm, orig, hmm, keep_all) -> bytes
 *     `zhili segment` in one call: cut `norm` (lines joined by \n), write the tokens as
 *     slices of `orig` (same length: normalisation keeps one character for one), UTF-8,
 *     separated by one space, one output line per input line; without keep_all only tokens
 *     with a letter or digit (str.isalnum) are written.
 * Cutter.dump() -> bytes; Cutter.load(bytes) -> Cutter
 *     the built dictionary (trie, HMM tables, force-split words) as one flat blob, so a
 *     process can start from a cached file instead of rebuilding from jieba's dictionary.
 *     load() checks every size and index and raises ValueError on a malformed blob.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define HAN_LO 0x4E00
#define HAN_HI 0x9FD5
#define N_HAN (HAN_HI - HAN_LO + 1)
#define NONE UINT32_MAX
#define PRESENT 1  /* the string is a key of FREQ */
#define HAS_FREQ 2 /* ... with a non-zero count */

static const double MIN_FLOAT = -3.14e100;

enum { B = 0, E = 1, M = 2, S = 3 }; /* alphabetical: a larger index wins a tie, as in Python */

static inline int is_han(Py_UCS4 c) { return c >= HAN_LO && c <= HAN_HI; }
static inline int is_digit(Py_UCS4 c) { return c >= '0' && c <= '9'; }
static inline int is_alnum(Py_UCS4 c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
/* jieba's re_han_default: [\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-] */
static inline int in_block(Py_UCS4 c) {
    return is_han(c) || is_alnum(c) || c == '+' || c == '#' || c == '&' || c == '.' || c == '_' || c == '%' ||
           c == '-';
}

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static int grow(void **buf, size_t *cap, size_t need, size_t item) {
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    void *p = PyMem_Realloc(*buf, n * item);
    if (!p) {
        PyErr_NoMemory();
        return -1;
    }
    *buf = p;
    *cap = n;
    return 0;
}

/* ---- strings -> small ids (out-of-dictionary tokens, force-split words) ---------------- */

typedef struct {
    uint64_t hash;
    uint32_t start, len; /* into pool */
    int32_t value;       /* -1: empty slot */
} StrSlot;

typedef struct {
    StrSlot *slots;
    size_t cap, used; /* cap: power of two */
    Py_UCS4 *pool;
    size_t pool_len, pool_cap;
} StrTable;

static uint64_t str_hash(const Py_UCS4 *s, Py_ssize_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (Py_ssize_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ULL;
    return mix64(h);
}

static int strtable_init(StrTable *t, size_t cap) {
    memset(t, 0, sizeof *t);
    t->slots = PyMem_Malloc(cap * sizeof(StrSlot));
    if (!t->slots) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < cap; i++) t->slots[i].value = -1;
    t->cap = cap;
    return 0;
}

static void strtable_clear(StrTable *t) {
    for (size_t i = 0; i < t->cap; i++) t->slots[i].value = -1;
    t->used = 0;
    t->pool_len = 0;
}

static void strtable_free(StrTable *t) {
    PyMem_Free(t->slots);
    PyMem_Free(t->pool);
    memset(t, 0, sizeof *t);
}

static StrSlot *strtable_find(StrTable *t, const Py_UCS4 *s, Py_ssize_t n, uint64_t h) {
    size_t mask = t->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        StrSlot *slot = &t->slots[i];
        if (slot->value < 0) return slot;
        if (slot->hash == h && slot->len == (uint32_t)n && memcmp(t->pool + slot->start, s, n * sizeof(Py_UCS4)) == 0)
            return slot;
    }
}

static int strtable_rehash(StrTable *t) {
    StrTable bigger = *t;
    bigger.cap = t->cap * 2;
    bigger.slots = PyMem_Malloc(bigger.cap * sizeof(StrSlot));
    if (!bigger.slots) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < bigger.cap; i++) bigger.slots[i].value = -1;
    for (size_t i = 0; i < t->cap; i++) {
        StrSlot *old = &t->slots[i];
        if (old->value < 0) continue;
        size_t mask = bigger.cap - 1, j = old->hash & mask;
        while (bigger.slots[j].value >= 0) j = (j + 1) & mask;
        bigger.slots[j] = *old;
    }
    PyMem_Free(t->slots);
    *t = bigger;
    return 0;
}

/* The value stored for s, or -1 if absent. */
static int32_t strtable_get(StrTable *t, const Py_UCS4 *s, Py_ssize_t n) {
    if (t->used == 0) return -1;
    return strtable_find(t, s, n, str_hash(s, n))->value;
}

/* The value stored for s; absent strings get `value`. Returns -2 on memory error. */
static int32_t strtable_add(StrTable *t, const Py_UCS4 *s, Py_ssize_t n, int32_t value) {
    uint64_t h = str_hash(s, n);
    StrSlot *slot = strtable_find(t, s, n, h);
    if (slot->value >= 0) return slot->value;
    if (grow((void **)&t->pool, &t->pool_cap, t->pool_len + n, sizeof(Py_UCS4)) < 0) return -2;
    memcpy(t->pool + t->pool_len, s, n * sizeof(Py_UCS4));
    slot->hash = h;
    slot->start = (uint32_t)t->pool_len;
    slot->len = (uint32_t)n;
    slot->value = value;
    t->pool_len += n;
    if (++t->used * 2 > t->cap && strtable_rehash(t) < 0) return -2;
    return value;
}

/* ---- the Cutter ------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    /* FREQ as a trie: node 0 is the root; a node is a string, its edges live in one hash table */
    size_t n_nodes, nodes_cap;
    uint32_t *parent, *depth;
    Py_UCS4 *last; /* the node's last character */
    double *weight; /* log(freq) - log(total), for nodes with HAS_FREQ */
    uint8_t *flags;
    uint32_t root_bmp[0x10000]; /* root's children for the Basic Multilingual Plane */
    uint64_t *edge_keys;        /* (parent + 1) << 32 | character; 0 = empty */
    uint32_t *edge_vals;
    size_t edge_cap, edge_used;
    double logtotal;
    double start_p[4], trans_p[4][4];
    double *emit_p; /* [state][character - HAN_LO] */
    StrTable force_split;
    /* per-batch state */
    int32_t *local_of; /* node -> id in this batch's vocabulary, -1 if not yet seen */
    StrTable oov;      /* strings that are not nodes -> id in this batch's vocabulary */
    int64_t *vocab_src; /* >= 0: node; < 0: -(offset into oov.pool) - 1, with its length in vocab_len */
    uint32_t *vocab_len;
    size_t n_vocab, vocab_cap, vocab_len_cap;
    int32_t *ids;
    size_t n_ids, ids_cap;
    /* scratch for one block */
    Py_UCS4 *text;
    size_t text_cap;
    size_t *dag_off;
    size_t dag_off_cap;
    uint32_t *dag_end, *dag_node;
    size_t dag_cap, dag_cap2;
    double *route_p;
    size_t route_p_cap;
    uint32_t *route_x, *route_node;
    size_t route_x_cap, route_node_cap;
    double *vit;
    size_t vit_cap;
    uint8_t *back;
    size_t back_cap;
} Cutter;

static uint32_t child(const Cutter *c, uint32_t node, Py_UCS4 ch) {
    if (node == 0 && ch < 0x10000) return c->root_bmp[ch];
    uint64_t key = ((uint64_t)(node + 1) << 32) | ch;
    size_t mask = c->edge_cap - 1;
    for (size_t i = mix64(key) & mask;; i = (i + 1) & mask) {
        uint64_t k = c->edge_keys[i];
        if (k == key) return c->edge_vals[i];
        if (k == 0) return NONE;
    }
}

static int edges_rehash(Cutter *c) {
    size_t cap = c->edge_cap ? c->edge_cap * 2 : (1 << 16);
    uint64_t *keys = PyMem_Calloc(cap, sizeof(uint64_t));
    uint32_t *vals = PyMem_Malloc(cap * sizeof(uint32_t));
    if (!keys || !vals) {
        PyMem_Free(keys);
        PyMem_Free(vals);
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < c->edge_cap; i++) {
        uint64_t k = c->edge_keys[i];
        if (!k) continue;
        size_t j = mix64(k) & (cap - 1);
        while (keys[j]) j = (j + 1) & (cap - 1);
        keys[j] = k;
        vals[j] = c->edge_vals[i];
    }
    PyMem_Free(c->edge_keys);
    PyMem_Free(c->edge_vals);
    c->edge_keys = keys;
    c->edge_vals = vals;
    c->edge_cap = cap;
    return 0;
}

static uint32_t add_child(Cutter *c, uint32_t node, Py_UCS4 ch) {
    uint32_t found = child(c, node, ch);
    if (found != NONE) return found;
    size_t n = c->n_nodes;
    if (n + 1 >= NONE) {
        PyErr_SetString(PyExc_OverflowError, "dictionary too large");
        return NONE;
    }
    size_t cap = c->nodes_cap;
    if (grow((void **)&c->parent, &cap, n + 1, sizeof(uint32_t)) < 0) return NONE;
    cap = c->nodes_cap;
    if (grow((void **)&c->depth, &cap, n + 1, sizeof(uint32_t)) < 0) return NONE;
    cap = c->nodes_cap;
    if (grow((void **)&c->last, &cap, n + 1, sizeof(Py_UCS4)) < 0) return NONE;
    cap = c->nodes_cap;
    if (grow((void **)&c->weight, &cap, n + 1, sizeof(double)) < 0) return NONE;
    cap = c->nodes_cap;
    if (grow((void **)&c->flags, &cap, n + 1, sizeof(uint8_t)) < 0) return NONE;
    c->nodes_cap = cap;
    c->parent[n] = node;
    c->depth[n] = c->depth[node] + 1;
    c->last[n] = ch;
    c->weight[n] = 0.0;
    c->flags[n] = 0;
    c->n_nodes = n + 1;
    if (node == 0 && ch < 0x10000) {
        c->root_bmp[ch] = (uint32_t)n;
    } else {
        if ((c->edge_used + 1) * 2 > c->edge_cap && edges_rehash(c) < 0) return NONE;
        uint64_t key = ((uint64_t)(node + 1) << 32) | ch;
        size_t mask = c->edge_cap - 1, i = mix64(key) & mask;
        while (c->edge_keys[i]) i = (i + 1) & mask;
        c->edge_keys[i] = key;
        c->edge_vals[i] = (uint32_t)n;
        c->edge_used++;
    }
    return (uint32_t)n;
}

/* The node spelling s[0:n], or NONE. */
static uint32_t find_node(const Cutter *c, const Py_UCS4 *s, Py_ssize_t n) {
    uint32_t node = 0;
    for (Py_ssize_t i = 0; i < n && node != NONE; i++) node = child(c, node, s[i]);
    return node;
}

/* ---- building ---------------------------------------------------------------------------- */

static double get_prob(PyObject *table, const char *key, double fallback) {
    PyObject *k = PyUnicode_FromString(key);
    if (!k) return NAN;
    PyObject *v = PyDict_GetItemWithError(table, k);
    Py_DECREF(k);
    if (!v) return PyErr_Occurred() ? NAN : fallback;
    return PyFloat_AsDouble(v);
}

static const char *STATE_NAMES[4] = {"B", "E", "M", "S"};

static int load_hmm(Cutter *c, PyObject *start_p, PyObject *trans_p, PyObject *emit_p) {
    if (!PyDict_Check(start_p) || !PyDict_Check(trans_p) || !PyDict_Check(emit_p)) {
        PyErr_SetString(PyExc_TypeError, "start_p, trans_p and emit_p must be dicts");
        return -1;
    }
    c->emit_p = PyMem_Malloc(4 * N_HAN * sizeof(double));
    if (!c->emit_p) {
        PyErr_NoMemory();
        return -1;
    }
    for (int y = 0; y < 4; y++) {
        c->start_p[y] = get_prob(start_p, STATE_NAMES[y], MIN_FLOAT);
        if (PyErr_Occurred()) return -1;
        PyObject *row = PyDict_GetItemString(trans_p, STATE_NAMES[y]);
        for (int z = 0; z < 4; z++) {
            c->trans_p[y][z] = row && PyDict_Check(row) ? get_prob(row, STATE_NAMES[z], MIN_FLOAT) : MIN_FLOAT;
            if (PyErr_Occurred()) return -1;
        }
        double *em = c->emit_p + (size_t)y * N_HAN;
        for (size_t i = 0; i < N_HAN; i++) em[i] = MIN_FLOAT;
        PyObject *chars = PyDict_GetItemString(emit_p, STATE_NAMES[y]);
        if (!chars || !PyDict_Check(chars)) continue;
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        while (PyDict_Next(chars, &pos, &key, &value)) {
            if (!PyUnicode_Check(key) || PyUnicode_GET_LENGTH(key) != 1) continue;
            Py_UCS4 ch = PyUnicode_READ_CHAR(key, 0);
            if (!is_han(ch)) continue; /* the HMM only ever sees these */
            em[ch - HAN_LO] = PyFloat_AsDouble(value);
            if (PyErr_Occurred()) return -1;
        }
    }
    return 0;
}

static int load_freq(Cutter *c, PyObject *freq, PyObject *total) {
    if (!PyDict_Check(freq)) {
        PyErr_SetString(PyExc_TypeError, "freq must be a dict");
        return -1;
    }
    double tot = PyFloat_AsDouble(total);
    if (PyErr_Occurred()) return -1;
    if (!(tot > 0)) {
        PyErr_SetString(PyExc_ValueError, "total must be positive");
        return -1;
    }
    c->logtotal = log(tot);
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    Py_UCS4 buf[256];
    while (PyDict_Next(freq, &pos, &key, &value)) {
        if (!PyUnicode_Check(key)) continue;
        Py_ssize_t n = PyUnicode_GET_LENGTH(key);
        if (n == 0) continue;
        Py_UCS4 *s = n <= 256 ? buf : PyUnicode_AsUCS4Copy(key);
        if (!s || (n <= 256 && !PyUnicode_AsUCS4(key, buf, 256, 0))) return -1;
        uint32_t node = 0;
        for (Py_ssize_t i = 0; i < n && node != NONE; i++) node = add_child(c, node, s[i]);
        if (s != buf) PyMem_Free(s);
        if (node == NONE) return -1;
        double f = PyFloat_AsDouble(value);
        if (PyErr_Occurred()) return -1;
        c->flags[node] |= PRESENT;
        if (f != 0) {
            if (f < 0) {
                PyErr_Format(PyExc_ValueError, "negative frequency for %R", key);
                return -1;
            }
            c->flags[node] |= HAS_FREQ;
            c->weight[node] = log(f) - c->logtotal; /* jieba: log(FREQ[w]) - logtotal + ... */
        }
    }
    return 0;
}

static void Cutter_dealloc(Cutter *c) {
    PyMem_Free(c->parent);
    PyMem_Free(c->depth);
    PyMem_Free(c->last);
    PyMem_Free(c->weight);
    PyMem_Free(c->flags);
    PyMem_Free(c->edge_keys);
    PyMem_Free(c->edge_vals);
    PyMem_Free(c->emit_p);
    strtable_free(&c->force_split);
    PyMem_Free(c->local_of);
    strtable_free(&c->oov);
    PyMem_Free(c->vocab_src);
    PyMem_Free(c->vocab_len);
    PyMem_Free(c->ids);
    PyMem_Free(c->text);
    PyMem_Free(c->dag_off);
    PyMem_Free(c->dag_end);
    PyMem_Free(c->dag_node);
    PyMem_Free(c->route_p);
    PyMem_Free(c->route_x);
    PyMem_Free(c->route_node);
    PyMem_Free(c->vit);
    PyMem_Free(c->back);
    Py_TYPE(c)->tp_free((PyObject *)c);
}

static int Cutter_init(Cutter *c, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"freq", "total", "start_p", "trans_p", "emit_p", "force_split", NULL};
    PyObject *freq, *total, *start_p, *trans_p, *emit_p, *force = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOO|O", kwlist, &freq, &total, &start_p, &trans_p, &emit_p,
                                     &force))
        return -1;
    if (c->n_nodes) {
        PyErr_SetString(PyExc_RuntimeError, "Cutter is already initialised");
        return -1;
    }
    /* the root */
    c->parent = PyMem_Malloc(sizeof(uint32_t));
    c->depth = PyMem_Malloc(sizeof(uint32_t));
    c->last = PyMem_Malloc(sizeof(Py_UCS4));
    c->weight = PyMem_Malloc(sizeof(double));
    c->flags = PyMem_Malloc(1);
    if (!c->parent || !c->depth || !c->last || !c->weight || !c->flags) {
        PyErr_NoMemory();
        return -1;
    }
    c->nodes_cap = 1;
    c->n_nodes = 1;
    c->parent[0] = NONE;
    c->depth[0] = 0;
    c->last[0] = 0;
    c->weight[0] = 0;
    c->flags[0] = 0;
    memset(c->root_bmp, 0xff, sizeof c->root_bmp);
    if (edges_rehash(c) < 0 || load_freq(c, freq, total) < 0 || load_hmm(c, start_p, trans_p, emit_p) < 0)
        return -1;
    if (strtable_init(&c->force_split, 16) < 0 || strtable_init(&c->oov, 1 << 12) < 0) return -1;
    if (force && force != Py_None) {
        PyObject *it = PyObject_GetIter(force), *word;
        if (!it) return -1;
        while ((word = PyIter_Next(it))) {
            Py_UCS4 *s = PyUnicode_Check(word) ? PyUnicode_AsUCS4Copy(word) : NULL;
            Py_ssize_t n = s ? PyUnicode_GET_LENGTH(word) : 0;
            Py_DECREF(word);
            if (!s) {
                Py_DECREF(it);
                if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "force_split must hold strings");
                return -1;
            }
            int32_t r = strtable_add(&c->force_split, s, n, 0);
            PyMem_Free(s);
            if (r == -2) {
                Py_DECREF(it);
                return -1;
            }
        }
        Py_DECREF(it);
        if (PyErr_Occurred()) return -1;
    }
    c->local_of = PyMem_Malloc(c->n_nodes * sizeof(int32_t));
    if (!c->local_of) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < c->n_nodes; i++) c->local_of[i] = -1;
    return 0;
}

/* ---- cutting ------------------------------------------------------------------------------ */

/* A new entry of the batch's vocabulary (see vocab_src); returns its id, or -1 on memory error. */
static int32_t add_vocab(Cutter *c, int64_t src, uint32_t len) {
    if (grow((void **)&c->vocab_src, &c->vocab_cap, c->n_vocab + 1, sizeof(int64_t)) < 0 ||
        grow((void **)&c->vocab_len, &c->vocab_len_cap, c->n_vocab + 1, sizeof(uint32_t)) < 0)
        return -1;
    c->vocab_src[c->n_vocab] = src;
    c->vocab_len[c->n_vocab] = len;
    return (int32_t)c->n_vocab++;
}

/* One token s[0:n]; `node` is its trie node when the caller knows it. */
static int emit(Cutter *c, const Py_UCS4 *s, Py_ssize_t n, uint32_t node) {
    if (node == NONE) node = find_node(c, s, n);
    int32_t id;
    if (node != NONE) {
        id = c->local_of[node];
        if (id < 0 && (id = c->local_of[node] = add_vocab(c, node, (uint32_t)n)) < 0) return -1;
    } else {
        size_t before = c->oov.pool_len;
        id = strtable_add(&c->oov, s, n, (int32_t)c->n_vocab);
        if (id == -2) return -1;
        if (id == (int32_t)c->n_vocab && add_vocab(c, -(int64_t)before - 1, (uint32_t)n) < 0) return -1;
    }
    if (grow((void **)&c->ids, &c->ids_cap, c->n_ids + 1, sizeof(int32_t)) < 0) return -1;
    c->ids[c->n_ids++] = id;
    return 0;
}

/* An HMM word, or its characters if it is a force-split word (finalseg.cut). */
static int emit_hmm_word(Cutter *c, const Py_UCS4 *s, Py_ssize_t n) {
    if (c->force_split.used && strtable_get(&c->force_split, s, n) >= 0) {
        for (Py_ssize_t i = 0; i < n; i++)
            if (emit(c, s + i, 1, NONE) < 0) return -1;
        return 0;
    }
    return emit(c, s, n, NONE);
}

/* finalseg.__cut: Viterbi over B/M/E/S for a run of Han characters. */
static int viterbi_cut(Cutter *c, const Py_UCS4 *s, Py_ssize_t n) {
    static const int prev[4][2] = {[B] = {E, S}, [E] = {B, M}, [M] = {B, M}, [S] = {E, S}};
    if (grow((void **)&c->vit, &c->vit_cap, 4 * (size_t)n, sizeof(double)) < 0) return -1;
    if (grow((void **)&c->back, &c->back_cap, 5 * (size_t)n, 1) < 0) return -1;
    double *V = c->vit;
    uint8_t *back = c->back;
    for (int y = 0; y < 4; y++) V[y] = c->start_p[y] + c->emit_p[(size_t)y * N_HAN + (s[0] - HAN_LO)];
    for (Py_ssize_t t = 1; t < n; t++) {
        const double *prevV = V + 4 * (t - 1);
        for (int y = 0; y < 4; y++) {
            double em = c->emit_p[(size_t)y * N_HAN + (s[t] - HAN_LO)];
            int y0 = prev[y][0], y1 = prev[y][1]; /* y0 < y1 */
            double p0 = prevV[y0] + c->trans_p[y0][y] + em;
            double p1 = prevV[y1] + c->trans_p[y1][y] + em;
            int best = p1 >= p0 ? y1 : y0;
            V[4 * t + y] = p1 >= p0 ? p1 : p0;
            back[4 * t + y] = (uint8_t)best;
        }
    }
    uint8_t *states = back + 4 * n; /* the best path, walked back from the better of E and S */
    int state = V[4 * (n - 1) + S] >= V[4 * (n - 1) + E] ? S : E;
    for (Py_ssize_t t = n - 1; t >= 0; t--) {
        int here = state;
        if (t > 0) state = back[4 * t + here];
        states[t] = (uint8_t)here;
    }
    Py_ssize_t begin = 0, next = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int pos = states[i];
        if (pos == B) {
            begin = i;
        } else if (pos == E) {
            if (emit_hmm_word(c, s + begin, i + 1 - begin) < 0) return -1;
            next = i + 1;
        } else if (pos == S) {
            if (emit_hmm_word(c, s + i, 1) < 0) return -1;
            next = i + 1;
        }
    }
    if (next < n && emit_hmm_word(c, s + next, n - next) < 0) return -1;
    return 0;
}

/* finalseg's re_skip.split for non-Han text: [a-zA-Z0-9]+(?:\.\d+)?%? and what lies between. */
static int skip_cut(Cutter *c, const Py_UCS4 *s, Py_ssize_t n) {
    Py_ssize_t i = 0, pending = 0;
    while (i < n) {
        if (!is_alnum(s[i])) {
            i++;
            continue;
        }
        Py_ssize_t j = i;
        while (j < n && is_alnum(s[j])) j++;
        if (j + 1 < n && s[j] == '.' && is_digit(s[j + 1])) {
            j += 2;
            while (j < n && is_digit(s[j])) j++;
        }
        if (j < n && s[j] == '%') j++;
        if (i > pending && emit(c, s + pending, i - pending, NONE) < 0) return -1;
        if (emit(c, s + i, j - i, NONE) < 0) return -1;
        i = pending = j;
    }
    if (n > pending && emit(c, s + pending, n - pending, NONE) < 0) return -1;
    return 0;
}

/* finalseg.cut */
static int hmm_cut(Cutter *c, const Py_UCS4 *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    while (i < n) {
        Py_ssize_t j = i;
        int han = is_han(s[i]);
        while (j < n && is_han(s[j]) == han) j++;
        if ((han ? viterbi_cut(c, s + i, j - i) : skip_cut(c, s + i, j - i)) < 0) return -1;
        i = j;
    }
    return 0;
}

/* __cut_DAG's handling of a run of single-character words s[0:n]. */
static int flush_buf(Cutter *c, const Py_UCS4 *s, Py_ssize_t n) {
    if (n == 1) return emit(c, s, 1, NONE);
    uint32_t node = find_node(c, s, n);
    if (node == NONE || !(c->flags[node] & HAS_FREQ)) return hmm_cut(c, s, n);
    for (Py_ssize_t i = 0; i < n; i++)
        if (emit(c, s + i, 1, NONE) < 0) return -1;
    return 0;
}

/* Append the DAG entry (word ends at `end`, its trie node `node`) as entry *ne. */
static int push_dag(Cutter *c, size_t *ne, size_t end, uint32_t node) {
    if (grow((void **)&c->dag_end, &c->dag_cap, *ne + 1, sizeof(uint32_t)) < 0 ||
        grow((void **)&c->dag_node, &c->dag_cap2, *ne + 1, sizeof(uint32_t)) < 0)
        return -1;
    c->dag_end[*ne] = (uint32_t)end;
    c->dag_node[(*ne)++] = node;
    return 0;
}

/* get_DAG + calc + __cut_DAG (or __cut_DAG_NO_HMM) for one block of re_han_default characters. */
static int cut_block(Cutter *c, const Py_UCS4 *s, Py_ssize_t n, int hmm) {
    size_t N = (size_t)n;
    if (grow((void **)&c->dag_off, &c->dag_off_cap, N + 1, sizeof(size_t)) < 0 ||
        grow((void **)&c->route_p, &c->route_p_cap, N + 1, sizeof(double)) < 0 ||
        grow((void **)&c->route_x, &c->route_x_cap, N, sizeof(uint32_t)) < 0 ||
        grow((void **)&c->route_node, &c->route_node_cap, N, sizeof(uint32_t)) < 0)
        return -1;
    size_t ne = 0;
    for (size_t k = 0; k < N; k++) {
        c->dag_off[k] = ne;
        uint32_t node = child(c, 0, s[k]);
        size_t i = k;
        while (node != NONE && (c->flags[node] & PRESENT)) {
            if ((c->flags[node] & HAS_FREQ) && push_dag(c, &ne, i, node) < 0) return -1;
            if (++i >= N) break;
            node = child(c, node, s[i]);
        }
        /* no word starts here: the character alone, FREQ.get(...) or 1 */
        if (c->dag_off[k] == ne && push_dag(c, &ne, k, NONE) < 0) return -1;
    }
    c->dag_off[N] = ne;
    c->route_p[N] = 0.0;
    for (size_t idx = N; idx-- > 0;) {
        double best = 0.0;
        uint32_t bx = 0, bnode = NONE;
        for (size_t e = c->dag_off[idx]; e < c->dag_off[idx + 1]; e++) {
            uint32_t x = c->dag_end[e], node = c->dag_node[e];
            double w = node == NONE ? 0.0 - c->logtotal : c->weight[node];
            double p = w + c->route_p[x + 1];
            if (e == c->dag_off[idx] || p >= best) { /* ascending x: the later one wins a tie */
                best = p;
                bx = x;
                bnode = node;
            }
        }
        c->route_p[idx] = best;
        c->route_x[idx] = bx;
        c->route_node[idx] = bnode;
    }
    size_t x = 0, buf = SIZE_MAX;
    while (x < N) {
        size_t y = c->route_x[x] + 1;
        int single = y - x == 1;
        int into_buf = hmm ? single : single && is_alnum(s[x]);
        if (into_buf) {
            if (buf == SIZE_MAX) buf = x;
        } else {
            if (buf != SIZE_MAX) {
                if ((hmm ? flush_buf(c, s + buf, x - buf) : emit(c, s + buf, x - buf, NONE)) < 0) return -1;
                buf = SIZE_MAX;
            }
            if (emit(c, s + x, y - x, single ? NONE : c->route_node[x]) < 0) return -1;
        }
        x = y;
    }
    if (buf != SIZE_MAX && (hmm ? flush_buf(c, s + buf, N - buf) : emit(c, s + buf, N - buf, NONE)) < 0) return -1;
    return 0;
}

/* Tokenizer.cut(sentence, HMM=hmm) */
static int cut_text(Cutter *c, const Py_UCS4 *s, Py_ssize_t n, int hmm) {
    Py_ssize_t i = 0;
    while (i < n) {
        if (in_block(s[i])) {
            Py_ssize_t j = i + 1;
            while (j < n && in_block(s[j])) j++;
            if (cut_block(c, s + i, j - i, hmm) < 0) return -1;
            i = j;
        } else if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
            if (emit(c, s + i, 2, NONE) < 0) return -1;
            i += 2;
        } else {
            if (emit(c, s + i, 1, NONE) < 0) return -1;
            i++;
        }
    }
    return 0;
}

static PyObject *vocab_list(Cutter *c) {
    PyObject *vocab = PyList_New((Py_ssize_t)c->n_vocab);
    if (!vocab) return NULL;
    Py_UCS4 buf[256];
    for (size_t v = 0; v < c->n_vocab; v++) {
        int64_t src = c->vocab_src[v];
        PyObject *word;
        if (src >= 0) {
            uint32_t node = (uint32_t)src, n = c->depth[node];
            Py_UCS4 *chars = n <= 256 ? buf : PyMem_Malloc(n * sizeof(Py_UCS4));
            if (!chars) {
                Py_DECREF(vocab);
                return PyErr_NoMemory();
            }
            for (uint32_t i = n; i-- > 0; node = c->parent[node]) chars[i] = c->last[node];
            word = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, chars, n);
            if (chars != buf) PyMem_Free(chars);
        } else {
            word = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, c->oov.pool + (-src - 1), c->vocab_len[v]);
        }
        if (!word) {
            Py_DECREF(vocab);
            return NULL;
        }
        PyList_SET_ITEM(vocab, (Py_ssize_t)v, word);
    }
    return vocab;
}

static void reset_batch(Cutter *c) {
    for (size_t v = 0; v < c->n_vocab; v++)
        if (c->vocab_src[v] >= 0) c->local_of[c->vocab_src[v]] = -1;
    c->n_vocab = 0;
    c->n_ids = 0;
    if (c->oov.used) strtable_clear(&c->oov);
}

static PyObject *Cutter_cut_batch(Cutter *c, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"texts", "hmm", NULL};
    PyObject *texts;
    int hmm = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|p", kwlist, &texts, &hmm)) return NULL;
    if (!c->n_nodes) {
        PyErr_SetString(PyExc_RuntimeError, "Cutter is not initialised");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(texts, "texts must be a sequence of str");
    if (!seq) return NULL;
    Py_ssize_t n_texts = PySequence_Fast_GET_SIZE(seq);
    PyObject *lengths = PyBytes_FromStringAndSize(NULL, n_texts * (Py_ssize_t)sizeof(int64_t));
    if (!lengths) {
        Py_DECREF(seq);
        return NULL;
    }
    int64_t *len_out = (int64_t *)PyBytes_AS_STRING(lengths);
    for (Py_ssize_t t = 0; t < n_texts; t++) {
        PyObject *text = PySequence_Fast_GET_ITEM(seq, t);
        if (!PyUnicode_Check(text)) {
            PyErr_Format(PyExc_TypeError, "texts[%zd] is %.100s, not str", t, Py_TYPE(text)->tp_name);
            goto fail;
        }
        Py_ssize_t n = PyUnicode_GET_LENGTH(text);
        if (grow((void **)&c->text, &c->text_cap, (size_t)n + 1, sizeof(Py_UCS4)) < 0) goto fail;
        if (!PyUnicode_AsUCS4(text, c->text, (Py_ssize_t)c->text_cap, 0)) goto fail;
        size_t before = c->n_ids;
        if (cut_text(c, c->text, n, hmm) < 0) goto fail;
        len_out[t] = (int64_t)(c->n_ids - before);
    }
    Py_DECREF(seq);
    PyObject *vocab = vocab_list(c);
    PyObject *ids = vocab ? PyBytes_FromStringAndSize((const char *)c->ids, (Py_ssize_t)(c->n_ids * sizeof(int32_t)))
                          : NULL;
    reset_batch(c);
    if (!ids) {
        Py_XDECREF(vocab);
        Py_DECREF(lengths);
        return NULL;
    }
    PyObject *out = PyTuple_Pack(3, vocab, ids, lengths);
    Py_DECREF(vocab);
    Py_DECREF(ids);
    Py_DECREF(lengths);
    return out;
fail:
    reset_batch(c);
    Py_DECREF(seq);
    Py_DECREF(lengths);
    return NULL;
}

/* ---- segment_lines: cut and write in one pass ------------------------------------------- */

typedef struct {
    char *buf;
    size_t len, cap;
} Out;

static int out_reserve(Out *o, size_t extra) { return grow((void **)&o->buf, &o->cap, o->len + extra, 1); }

static void out_utf8(Out *o, Py_UCS4 ch) { /* room reserved by the caller: 4 bytes */
    char *p = o->buf + o->len;
    if (ch < 0x80) {
        p[0] = (char)ch;
        o->len += 1;
    } else if (ch < 0x800) {
        p[0] = (char)(0xC0 | (ch >> 6));
        p[1] = (char)(0x80 | (ch & 0x3F));
        o->len += 2;
    } else if (ch < 0x10000) {
        p[0] = (char)(0xE0 | (ch >> 12));
        p[1] = (char)(0x80 | ((ch >> 6) & 0x3F));
        p[2] = (char)(0x80 | (ch & 0x3F));
        o->len += 3;
    } else {
        p[0] = (char)(0xF0 | (ch >> 18));
        p[1] = (char)(0x80 | ((ch >> 12) & 0x3F));
        p[2] = (char)(0x80 | ((ch >> 6) & 0x3F));
        p[3] = (char)(0x80 | (ch & 0x3F));
        o->len += 4;
    }
}

static uint32_t token_len(const Cutter *c, int32_t id) {
    int64_t src = c->vocab_src[id];
    return src >= 0 ? c->depth[src] : c->vocab_len[id];
}

static PyObject *Cutter_segment_lines(Cutter *c, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"norm", "orig", "hmm", "keep_all", NULL};
    PyObject *norm, *orig;
    int hmm = 1, keep_all = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "UU|pp", kwlist, &norm, &orig, &hmm, &keep_all)) return NULL;
    if (!c->n_nodes) {
        PyErr_SetString(PyExc_RuntimeError, "Cutter is not initialised");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(norm);
    if (PyUnicode_GET_LENGTH(orig) != n) {
        PyErr_SetString(PyExc_ValueError, "norm and orig must have the same length");
        return NULL;
    }
    Py_UCS4 *o = PyUnicode_AsUCS4Copy(orig);
    if (!o) return NULL;
    if (grow((void **)&c->text, &c->text_cap, (size_t)n + 1, sizeof(Py_UCS4)) < 0 ||
        !PyUnicode_AsUCS4(norm, c->text, (Py_ssize_t)c->text_cap, 0) || cut_text(c, c->text, n, hmm) < 0) {
        PyMem_Free(o);
        reset_batch(c);
        return NULL;
    }
    Out out = {NULL, 0, 0};
    size_t pos = 0;
    int first = 1;
    for (size_t t = 0; t < c->n_ids; t++) {
        uint32_t len = token_len(c, c->ids[t]);
        const Py_UCS4 *s = o + pos;
        const Py_UCS4 *sn = c->text + pos;
        pos += len;
        if (len == 1 && sn[0] == '\n') {
            if (out_reserve(&out, 1) < 0) goto fail;
            out.buf[out.len++] = '\n';
            first = 1;
            continue;
        }
        if (!keep_all) {
            int alnum = 0;
            for (uint32_t i = 0; i < len && !alnum; i++) alnum = Py_UNICODE_ISALNUM(s[i]);
            if (!alnum) continue;
        }
        if (out_reserve(&out, 1 + 4 * (size_t)len) < 0) goto fail;
        if (!first) out.buf[out.len++] = ' ';
        first = 0;
        for (uint32_t i = 0; i < len; i++) out_utf8(&out, s[i]);
    }
    PyMem_Free(o);
    reset_batch(c);
    PyObject *result = PyBytes_FromStringAndSize(out.buf ? out.buf : "", (Py_ssize_t)out.len);
    PyMem_Free(out.buf);
    return result;
fail:
    PyMem_Free(o);
    PyMem_Free(out.buf);
    reset_batch(c);
    return NULL;
}

/* ---- dump / load: the built dictionary as one blob --------------------------------------- */

static const char MAGIC[8] = {'Z', 'H', 'C', 'U', 'T', 'B', 'L', '1'};

typedef struct {
    uint64_t n_nodes, edge_cap, edge_used, n_force, force_chars;
    double logtotal;
    double start_p[4], trans_p[4][4];
} BlobHeader;

static size_t blob_size(const BlobHeader *h) {
    return sizeof MAGIC + sizeof *h + h->n_nodes * (2 * sizeof(uint32_t) + sizeof(Py_UCS4) + sizeof(double) + 1) +
           sizeof(uint32_t) * 0x10000 + h->edge_cap * (sizeof(uint64_t) + sizeof(uint32_t)) +
           4 * (size_t)N_HAN * sizeof(double) + h->n_force * sizeof(uint32_t) + h->force_chars * sizeof(Py_UCS4);
}

static PyObject *Cutter_dump(Cutter *c, PyObject *unused) {
    if (!c->n_nodes) {
        PyErr_SetString(PyExc_RuntimeError, "Cutter is not initialised");
        return NULL;
    }
    BlobHeader h;
    memset(&h, 0, sizeof h);
    h.n_nodes = c->n_nodes;
    h.edge_cap = c->edge_cap;
    h.edge_used = c->edge_used;
    h.n_force = c->force_split.used;
    h.force_chars = c->force_split.pool_len;
    h.logtotal = c->logtotal;
    memcpy(h.start_p, c->start_p, sizeof h.start_p);
    memcpy(h.trans_p, c->trans_p, sizeof h.trans_p);
    PyObject *blob = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)blob_size(&h));
    if (!blob) return NULL;
    char *p = PyBytes_AS_STRING(blob);
#define PUT(src, bytes)              \
    do {                             \
        memcpy(p, (src), (bytes));   \
        p += (bytes);                \
    } while (0)
    PUT(MAGIC, sizeof MAGIC);
    PUT(&h, sizeof h);
    PUT(c->parent, c->n_nodes * sizeof(uint32_t));
    PUT(c->depth, c->n_nodes * sizeof(uint32_t));
    PUT(c->last, c->n_nodes * sizeof(Py_UCS4));
    PUT(c->weight, c->n_nodes * sizeof(double));
    PUT(c->flags, c->n_nodes);
    PUT(c->root_bmp, sizeof c->root_bmp);
    PUT(c->edge_keys, c->edge_cap * sizeof(uint64_t));
    PUT(c->edge_vals, c->edge_cap * sizeof(uint32_t));
    PUT(c->emit_p, 4 * (size_t)N_HAN * sizeof(double));
    for (size_t i = 0; i < c->force_split.cap; i++) {
        StrSlot *slot = &c->force_split.slots[i];
        if (slot->value < 0) continue;
        uint32_t len = slot->len;
        PUT(&len, sizeof len);
    }
    for (size_t i = 0; i < c->force_split.cap; i++) {
        StrSlot *slot = &c->force_split.slots[i];
        if (slot->value < 0) continue;
        PUT(c->force_split.pool + slot->start, slot->len * sizeof(Py_UCS4));
    }
#undef PUT
    return blob;
}

static PyObject *load_error(Cutter *c, const char *why) {
    Py_DECREF(c);
    PyErr_Format(PyExc_ValueError, "not a zhili dictionary blob: %s", why);
    return NULL;
}

static void *copy_out(const char **p, size_t bytes) {
    void *dst = PyMem_Malloc(bytes ? bytes : 1);
    if (dst) memcpy(dst, *p, bytes);
    *p += bytes;
    return dst;
}

static PyObject *Cutter_load(PyTypeObject *type, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    const char *p = view.buf;
    size_t size = (size_t)view.len;
    BlobHeader h;
    Cutter *c = (Cutter *)type->tp_alloc(type, 0);
    if (!c) {
        PyBuffer_Release(&view);
        return NULL;
    }
    PyObject *err = NULL;
#define FAIL(why)                        \
    do {                                 \
        PyBuffer_Release(&view);         \
        return load_error(c, (why));     \
    } while (0)
    if (size < sizeof MAGIC + sizeof h || memcmp(p, MAGIC, sizeof MAGIC) != 0) FAIL("bad header");
    memcpy(&h, p + sizeof MAGIC, sizeof h);
    if (h.n_nodes < 1 || h.n_nodes >= NONE || h.edge_cap < 2 || (h.edge_cap & (h.edge_cap - 1)) ||
        h.edge_cap > ((uint64_t)1 << 40) || h.edge_used >= h.edge_cap || h.n_force > ((uint64_t)1 << 32) ||
        h.force_chars > ((uint64_t)1 << 32))
        FAIL("bad sizes");
    if (blob_size(&h) != size) FAIL("wrong length");
    p += sizeof MAGIC + sizeof h;
    c->n_nodes = c->nodes_cap = h.n_nodes;
    c->parent = copy_out(&p, h.n_nodes * sizeof(uint32_t));
    c->depth = copy_out(&p, h.n_nodes * sizeof(uint32_t));
    c->last = copy_out(&p, h.n_nodes * sizeof(Py_UCS4));
    c->weight = copy_out(&p, h.n_nodes * sizeof(double));
    c->flags = copy_out(&p, h.n_nodes);
    memcpy(c->root_bmp, p, sizeof c->root_bmp);
    p += sizeof c->root_bmp;
    c->edge_cap = h.edge_cap;
    c->edge_used = h.edge_used;
    c->edge_keys = copy_out(&p, h.edge_cap * sizeof(uint64_t));
    c->edge_vals = copy_out(&p, h.edge_cap * sizeof(uint32_t));
    c->emit_p = copy_out(&p, 4 * (size_t)N_HAN * sizeof(double));
    c->logtotal = h.logtotal;
    memcpy(c->start_p, h.start_p, sizeof h.start_p);
    memcpy(c->trans_p, h.trans_p, sizeof h.trans_p);
    c->local_of = PyMem_Malloc(h.n_nodes * sizeof(int32_t));
    if (!c->parent || !c->depth || !c->last || !c->weight || !c->flags || !c->edge_keys || !c->edge_vals ||
        !c->emit_p || !c->local_of) {
        PyBuffer_Release(&view);
        Py_DECREF(c);
        return PyErr_NoMemory();
    }
    /* every index in range, every parent before its child, depths consistent */
    if (c->parent[0] != NONE || c->depth[0] != 0) FAIL("bad root");
    for (size_t i = 1; i < h.n_nodes; i++)
        if (c->parent[i] >= i || c->depth[i] != c->depth[c->parent[i]] + 1) FAIL("bad trie");
    for (size_t i = 0; i < 0x10000; i++)
        if (c->root_bmp[i] != NONE && (c->root_bmp[i] >= h.n_nodes || c->root_bmp[i] == 0)) FAIL("bad root table");
    size_t used = 0;
    for (size_t i = 0; i < h.edge_cap; i++) {
        if (!c->edge_keys[i]) continue;
        used++;
        if (c->edge_vals[i] >= h.n_nodes || c->edge_vals[i] == 0 || (c->edge_keys[i] >> 32) > h.n_nodes)
            FAIL("bad edge");
    }
    if (used != h.edge_used) FAIL("bad edge count");
    for (size_t i = 0; i < h.n_nodes; i++) c->local_of[i] = -1;
    if (strtable_init(&c->force_split, 16) < 0 || strtable_init(&c->oov, 1 << 12) < 0) {
        PyBuffer_Release(&view);
        Py_DECREF(c);
        return NULL;
    }
    const uint32_t *lens = (const uint32_t *)p;
    const Py_UCS4 *chars = (const Py_UCS4 *)(p + h.n_force * sizeof(uint32_t));
    uint64_t at = 0;
    for (uint64_t i = 0; i < h.n_force; i++) {
        uint32_t len;
        memcpy(&len, lens + i, sizeof len);
        if (at + len > h.force_chars) FAIL("bad force-split words");
        Py_UCS4 *word = PyMem_Malloc((len ? len : 1) * sizeof(Py_UCS4));
        if (!word) {
            PyBuffer_Release(&view);
            Py_DECREF(c);
            return PyErr_NoMemory();
        }
        memcpy(word, chars + at, len * sizeof(Py_UCS4));
        int32_t r = strtable_add(&c->force_split, word, len, 0);
        PyMem_Free(word);
        if (r == -2) {
            PyBuffer_Release(&view);
            Py_DECREF(c);
            return NULL;
        }
        at += len;
    }
#undef FAIL
    (void)err;
    PyBuffer_Release(&view);
    return (PyObject *)c;
}

static PyObject *Cutter_n_nodes(Cutter *c, void *closure) { return PyLong_FromSize_t(c->n_nodes); }

static PyMethodDef Cutter_methods[] = {
    {"cut_batch", (PyCFunction)(void (*)(void))Cutter_cut_batch, METH_VARARGS | METH_KEYWORDS,
     "cut_batch(texts, hmm=True) -> (vocab, ids: bytes of int32, lengths: bytes of int64)"},
    {"segment_lines", (PyCFunction)(void (*)(void))Cutter_segment_lines, METH_VARARGS | METH_KEYWORDS,
     "segment_lines(norm, orig, hmm=True, keep_all=False) -> bytes: tokens of orig, space-separated, UTF-8"},
    {"dump", (PyCFunction)Cutter_dump, METH_NOARGS, "dump() -> bytes: the built dictionary as one blob"},
    {"load", (PyCFunction)Cutter_load, METH_O | METH_CLASS, "Cutter.load(blob) -> Cutter built from dump()"},
    {NULL}};

static PyGetSetDef Cutter_getset[] = {{"n_nodes", (getter)Cutter_n_nodes, NULL, "trie nodes", NULL}, {NULL}};

static PyTypeObject CutterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "zhili._cut.Cutter",
    .tp_basicsize = sizeof(Cutter),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "jieba's accurate-mode cut in C; see zhili/_cut.c",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Cutter_init,
    .tp_dealloc = (destructor)Cutter_dealloc,
    .tp_methods = Cutter_methods,
    .tp_getset = Cutter_getset,
};

static struct PyModuleDef cutmodule = {PyModuleDef_HEAD_INIT, "_cut", "jieba's cut in C, returning ids.", -1, NULL};

PyMODINIT_FUNC PyInit__cut(void) {
    if (PyType_Ready(&CutterType) < 0) return NULL;
    PyObject *m = PyModule_Create(&cutmodule);
    if (!m) return NULL;
    Py_INCREF(&CutterType);
    if (PyModule_AddObject(m, "Cutter", (PyObject *)&CutterType) < 0 ||
        PyModule_AddIntConstant(m, "VERSION", 2) < 0) {
        Py_DECREF(&CutterType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
