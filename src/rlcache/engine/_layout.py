"""Index layout of the engine's state arrays (shared by the kernels and ``core``)."""

# ---- int64 scalars ``S`` ---------------------------------------------------------------
T, HITS, EVICTIONS, GHOST_HITS, NSLOTS, CAP = 0, 1, 2, 3, 4, 5
LRU_H, LRU_T, FIFO_H, FIFO_T, GH_H, GH_T, GLIVE, GSIZE = 6, 7, 8, 9, 10, 11, 12, 13
LFU_N, LRFU_N, EPOCH_END, PERIOD, MTI, WBASE = 14, 15, 16, 17, 18, 19
LAST_HITS, LAST_T, PREV, LAST_VICTIM, NREC, FEATSET, T0, HORIZON = 20, 21, 22, 23, 24, 25, 26, 27
USE_LRU, USE_FIFO, USE_LFU, USE_LRFU, SQ_N = 28, 29, 30, 31, 32
# the per-eviction budget (rlcache.serve): stop at a decision (DECIDE), its CHOICE and the
# LRU_CAND fallback, then the victim the caller FORCEs (-1 when none)
DECIDE, CHOICE, LRU_CAND, FORCE = 33, 34, 35, 36
N_S = 37
# ---- float64 scalars ``F`` -------------------------------------------------------------
HALF_LIFE, REBASE, SCALE, DECAY, GH, GR, GNEW, GGHOST, GMISS, GREUSE = range(10)
N_F = 10
# ---- per-object int64 columns ``iobj[obj, col]`` ---------------------------------------
FREQ, COUNT, FIRST, LAST, INS, GAP, RET, POS, LFU_F, LFU_K, GHOST_K = range(11)
N_I = 11
INIT_ROW = (0, 0, -1, -1, -1, 0, 0, 0, -1, -1, -1)
# ---- per-object float64 columns ``fobj[obj, col]`` -------------------------------------
DCOUNT, LRFU_KEY = 0, 1
# ---- rings ``rings[which, slot, (obj, time)]`` -----------------------------------------
R_LRU, R_FIFO, R_GHOST = 0, 1, 2
# ---- source codes (``SOURCES`` order of rlcache.cache.state) ---------------------------
SRC_LRU, SRC_LFU, SRC_FIFO, SRC_MRU, SRC_LRFU, SRC_RANDOM = range(6)
# ---- record codes (``rec``) ------------------------------------------------------------
REC_HIT, REC_INSERT = -1, -2

N_CAND_BASIC, N_CAND_EXT, N_GLOB = 8, 13, 4
