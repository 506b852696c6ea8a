// SPDX-License-Identifier: GPL-2.0
/*
 * driver.c - the rcu-harness kernel oracle: replay maple tree operations read
 * on stdin against the real lib/maple_tree.c and print a canonical dump of the
 * tree after each one.
 *
 * Built inside the kernel's userspace test harness
 * (tools/testing/radix-tree): this file includes lib/maple_tree.c the way
 * tools/testing/radix-tree/maple.c does (through "test.h") and is linked
 * against the harness objects (kmem_cache, xarray, liburcu), so every static
 * helper of the tree (ma_data_end(), ma_meta_gap(), ...) is available to the
 * dump below.
 *
 * Not through "maple-shared.h": in 6.12 that header reaches
 * include/linux/maple_tree.h before generated/bit-length.h defines
 * CONFIG_64BIT, so a tree built that way gets the 32-bit node geometry
 * (32 range64 slots, 21 arange64 slots, 512-byte nodes) on a 64-bit host.
 * The static assertions below hold the driver to the 64-bit geometry that
 * the kernel (and the Python model) use.
 *
 * Input: one operation per line, numbers in decimal (indexes are full 64-bit
 * unsigned, values V fit in 62 bits):
 *
 *   init F        if initialised: mtree_destroy(); mt_init_flags(&tree, F)  ret 0
 *   store A B V   mtree_store_range(&tree, A, B, xa_mk_value(V), GFP_KERNEL) ret int
 *   null A B      mtree_store_range(&tree, A, B, NULL, GFP_KERNEL)           ret int
 *   insert A B V  mtree_insert_range(&tree, A, B, xa_mk_value(V), GFP_KERNEL) ret int
 *   erase A       mtree_erase(&tree, A)                                  ret entry
 *   load A        mtree_load(&tree, A)                                   ret entry
 *   find A M      idx = A; e = mt_find(&tree, &idx, M)    ret entry ["@" hex(idx)]
 *   rcu_on        mt_set_in_rcu(&tree)                                   ret 0
 *   rcu_off       mt_clear_in_rcu(&tree)                                 ret 0
 *   bulk N        mas_init(&bmas, &tree, 0); lock;
 *                 r = mas_expected_entries(&bmas, N); unlock             ret int r
 *   bstore A B V  lock; bmas.index = A; bmas.last = B;
 *                 old = mas_store(&bmas, xa_mk_value(V)); unlock         ret entry
 *   bnull A B     as bstore, storing NULL                                ret entry
 *   bdestroy      lock; mas_destroy(&bmas); unlock                       ret 0
 *   destroy       mtree_destroy(&tree)                                   ret 0
 *   validate      mt_validate(&tree)                                     ret 0
 *   findafter A M idx = A; e = mt_find_after(&tree, &idx, M) ret entry ["@" hex(idx)]
 *
 * The reader API works on a second state, rmas (MA_STATE(rmas, &tree, 0, 0),
 * kept across operations and across init).  Each call below runs inside
 * rcu_read_lock()/rcu_read_unlock() of its own unless the reader holds the
 * RCU read lock ("rlock"); while it does, the end of an operation is not a
 * grace period (queued RCU callbacks wait for "runlock"):
 *
 *   rlock         rcu_read_lock() held across operations                 ret 0
 *   runlock       rcu_read_unlock()                                      ret 0
 *   mset I        mas_set(&rmas, I)                                      ret state
 *   mreset        mas_reset(&rmas)                                       ret state
 *   mpause        mas_pause(&rmas)                                       ret state
 *   mwalk         mas_walk(&rmas)                                        ret state
 *   mfind M       mas_find(&rmas, M)                                     ret state
 *   mfindrev M    mas_find_rev(&rmas, M)                                 ret state
 *   mnext M       mas_next(&rmas, M)                                     ret state
 *   mprev M       mas_prev(&rmas, M)                                     ret state
 *   mnextr M      mas_next_range(&rmas, M)                               ret state
 *   mprevr M      mas_prev_range(&rmas, M)                               ret state
 *   mforeach M K  mas_for_each(&rmas, e, M), at most K entries           ret state
 *
 * state  "<entries>@<index hex>-<last hex>/<status>": entries is the entry
 *        token the call returned (empty for mset/mreset/mpause); for
 *        mforeach, "<token>=<index hex>-<last hex>" of every entry the loop
 *        body saw, joined by ","; status is rmas.status without "ma_".
 *
 * After each operation the driver calls rcu_barrier() and runs the RCU
 * callbacks the operation queued (see driver_call_rcu() below), so that
 * frees queued with call_rcu() have run and node counts do not depend on
 * timing, and prints exactly one line:
 *
 *   <ret> h<height> n<nr> <tree>
 *
 * ret    an int in decimal (0, -17, ...) or an entry token;
 * entry  "-" NULL, "v<hex>" value entry (xa_to_value), "Z" XA_ZERO_ENTRY,
 *        "?" anything else;
 * height mt_height(&tree), decimal;
 * nr     mt_nr_allocated() (live maple_node_cache objects), decimal;
 * tree   "empty" if the root is NULL; "ptr:<entry>" if the root is an entry;
 *        otherwise the nodes in preorder (parent before children, children
 *        in slot order), separated by single spaces.  A node is
 *
 *          <T><min>-<max>|<pivots>|<rest>
 *
 *        T      L maple_leaf_64, R maple_range_64, A maple_arange_64;
 *        min/max the node's implied limits: the root spans
 *               0-ffffffffffffffff, child i of a node spans
 *               [pivot[i-1] + 1 (i > 0) or the parent's min,
 *                pivot[i] (i < end) or the parent's max];
 *        end    ma_data_end(node, type, pivots, max);
 *        pivots pivot[0..end-1] joined by ",", empty if end == 0;
 *        rest   leaf: entry tokens of slots 0..end joined by ",";
 *               arange64: gaps 0..end joined by ",", "/", then
 *               ma_meta_gap(node) in decimal;
 *               range64: "-".
 *        Numbers are lowercase hex without 0x, except height, nr, int rets
 *        and the meta gap offset, which are decimal.
 *
 * Example: "0 h1 n1 L0-ffffffffffffffff|9,a|-,v10,-"
 *
 * A line that cannot be parsed, or an unknown operation, prints
 * "error <message>" and the driver continues with the next line.
 *
 * Options "--every K" (K >= 1; default 1) and "--from P" (default: never):
 * print the tree only on input lines 0, K, 2K, ... (counted from 0, error
 * lines included), on every line from line P on, and after every
 * "validate"; other lines end in "." instead of the tree:
 * "<ret> h<height> n<nr> .".  Dumping a large tree after every operation is
 * what costs time on both sides of a differential run.
 *
 * Protocol lines go to the original stdout; the harness's own printk output
 * (the dump printed when mt_validate() or a MT_BUG_ON fails) is sent to
 * stderr so that it cannot be mistaken for a protocol line.
 */

#define CONFIG_DEBUG_MAPLE_TREE
#define CONFIG_MAPLE_SEARCH
#define MAPLE_32BIT (MAPLE_NODE_SLOTS > 31)
#include "test.h"
#include <stdlib.h>
#include <time.h>
#include <linux/init.h>

#define module_init(x)
#define module_exit(x)
#define MODULE_AUTHOR(x)
#define MODULE_DESCRIPTION(X)
#define MODULE_LICENSE(x)
#define dump_stack()	assert(0)

/*
 * RCU callbacks: liburcu's call_rcu() hands callbacks to a helper thread
 * that sleeps 10 ms per batch, so an rcu_barrier() after every operation
 * costs 10-20 ms once the tree is in RCU mode.  The driver is the only
 * thread and has no readers to wait for, so it queues the callbacks itself
 * (in call order) and runs them all at the end of each operation, right
 * after liburcu's rcu_barrier(): the end of an operation is a grace period.
 */
struct rcu_head;
static void driver_call_rcu(struct rcu_head *head,
			    void (*func)(struct rcu_head *head));
#undef call_rcu
#define call_rcu(head, func) driver_call_rcu(head, func)

/*
 * The tree under test: the kernel's lib/maple_tree.c, or a patched copy of
 * it (a candidate fix, a mutant's defect) named by -DMAPLE_TREE_C="path".
 */
#ifndef MAPLE_TREE_C
#define MAPLE_TREE_C "../../../lib/maple_tree.c"
#endif
#include MAPLE_TREE_C

_Static_assert(MAPLE_RANGE64_SLOTS == 16, "64-bit maple node geometry");
_Static_assert(MAPLE_ARANGE64_SLOTS == 10, "64-bit maple node geometry");
_Static_assert(sizeof(struct maple_node) == 256, "64-bit maple node size");

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DRIVER_MAX_ARGS 3

static struct maple_tree tree;
static MA_STATE(bmas, &tree, 0, 0);
static MA_STATE(rmas, &tree, 0, 0);
static unsigned int reader_locked;
static bool tree_initialised;
static FILE *out;
static unsigned long dump_every = 1;
static unsigned long dump_from = ULONG_MAX;
static unsigned long line_number;

static struct rcu_head **rcu_queue;
static size_t rcu_queued, rcu_queue_cap;

/* Queue @func(@head) to run at the end of the current operation. */
static void driver_call_rcu(struct rcu_head *head,
			    void (*func)(struct rcu_head *head))
{
	if (rcu_queued == rcu_queue_cap) {
		rcu_queue_cap = rcu_queue_cap ? 2 * rcu_queue_cap : 256;
		rcu_queue = realloc(rcu_queue, rcu_queue_cap * sizeof(*rcu_queue));
		if (!rcu_queue) {
			perror("driver: realloc");
			exit(2);
		}
	}
	head->func = func;
	rcu_queue[rcu_queued++] = head;
}

/*
 * rcu_barrier(), then run every queued callback (and any they queue).  Not
 * while the reader holds the RCU read lock: no grace period can end then.
 */
static void driver_rcu_barrier(void)
{
	size_t i;

	if (reader_locked)
		return;
	rcu_barrier();
	for (i = 0; i < rcu_queued; i++)
		rcu_queue[i]->func(rcu_queue[i]);
	rcu_queued = 0;
}

/* Keep AddressSanitizer's leak report quiet: the node cache keeps objects. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

/* Print the token of one entry: "-", "v<hex>", "Z" or "?". */
static void put_entry(void *entry)
{
	if (!entry)
		fputc('-', out);
	else if (xa_is_value(entry))
		fprintf(out, "v%lx", xa_to_value(entry));
	else if (xa_is_zero(entry))
		fputc('Z', out);
	else
		fputc('?', out);
}

/* The type letter of a node in the dump. */
static char type_letter(enum maple_type type)
{
	switch (type) {
	case maple_leaf_64:
		return 'L';
	case maple_range_64:
		return 'R';
	case maple_arange_64:
		return 'A';
	default:
		return 'D';
	}
}

/* Print one node, then its children in slot order (preorder). */
static void dump_node(struct maple_enode *enode, unsigned long min,
		      unsigned long max)
{
	struct maple_node *node = mte_to_node(enode);
	enum maple_type type = mte_node_type(enode);
	unsigned long *pivots = ma_pivots(node, type);
	void __rcu **slots = ma_slots(node, type);
	unsigned char end = ma_data_end(node, type, pivots, max);
	unsigned char i;

	fprintf(out, " %c%lx-%lx|", type_letter(type), min, max);
	for (i = 0; i < end; i++)
		fprintf(out, i ? ",%lx" : "%lx", pivots[i]);
	fputc('|', out);

	if (ma_is_leaf(type)) {
		for (i = 0; i <= end; i++) {
			if (i)
				fputc(',', out);
			put_entry(slots[i]);
		}
		return;
	}

	if (type == maple_arange_64) {
		unsigned long *gaps = ma_gaps(node, type);

		for (i = 0; i <= end; i++)
			fprintf(out, i ? ",%lx" : "%lx", gaps[i]);
		fprintf(out, "/%u", ma_meta_gap(node));
	} else {
		fputc('-', out);
	}

	for (i = 0; i <= end; i++) {
		unsigned long cmin = i ? pivots[i - 1] + 1 : min;
		unsigned long cmax = i < end ? pivots[i] : max;

		dump_node(slots[i], cmin, cmax);
	}
}

/*
 * Print " h<height> n<nr> <tree>" and the newline that ends the line; with
 * @full false the tree is elided as ".".
 */
static void dump_tree(bool full)
{
	void *root = tree_initialised ? tree.ma_root : NULL;

	fprintf(out, " h%u n%u", tree_initialised ? mt_height(&tree) : 0,
		mt_nr_allocated());
	if (!full) {
		fputs(" .", out);
	} else if (!root) {
		fputs(" empty", out);
	} else if (!xa_is_node(root)) {
		fputs(" ptr:", out);
		put_entry(root);
	} else {
		dump_node(mte_safe_root(root), 0, ULONG_MAX);
	}
	fputc('\n', out);
}

/* Parse @n decimal unsigned longs from @s into @args; false on junk. */
static bool parse_args(char *s, unsigned long *args, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		char *endp;

		while (*s == ' ' || *s == '\t')
			s++;
		if (*s < '0' || *s > '9')
			return false;
		errno = 0;
		args[i] = strtoul(s, &endp, 10);
		if (errno || endp == s)
			return false;
		s = endp;
	}
	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	return *s == '\0';
}

enum ret_kind { RET_INT, RET_ENTRY, RET_FIND, RET_STATE };

#define DRIVER_MAX_SEEN 64

struct op_result {
	enum ret_kind kind;
	long ival;
	void *entry;
	unsigned long index;
	int nseen;	/* RET_STATE: entries in seen[]; -1 one entry; -2 none */
	struct {
		void *entry;
		unsigned long index, last;
	} seen[DRIVER_MAX_SEEN];
};

static const char *const status_names[] = {
	[ma_active] = "active", [ma_start] = "start", [ma_root] = "root",
	[ma_none] = "none", [ma_pause] = "pause", [ma_overflow] = "overflow",
	[ma_underflow] = "underflow", [ma_error] = "error",
};

/* Run mas_store() of @entry over [@first, @last] with the bulk state. */
static void *bulk_store(unsigned long first, unsigned long last, void *entry)
{
	void *old;

	mtree_lock(&tree);
	bmas.index = first;
	bmas.last = last;
	old = mas_store(&bmas, entry);
	mtree_unlock(&tree);
	return old;
}

/* Set up the bulk state for @nr entries, as dup_mmap() did. */
static int bulk_begin(unsigned long nr)
{
	int ret;

	mas_init(&bmas, &tree, 0);
	mtree_lock(&tree);
	ret = mas_expected_entries(&bmas, nr);
	mtree_unlock(&tree);
	return ret;
}

/* Free what is left of the bulk state's preallocation. */
static void bulk_end(void)
{
	mtree_lock(&tree);
	mas_destroy(&bmas);
	mtree_unlock(&tree);
}

/* (Re)initialise the tree with flags @flags. */
static void tree_init(unsigned long flags)
{
	if (tree_initialised)
		mtree_destroy(&tree);
	mt_init_flags(&tree, flags);
	tree_initialised = true;
}

/* Is @name one of the operations this driver knows? */
static bool known_op(const char *name)
{
	static const char *const names[] = {
		"init", "store", "null", "insert", "erase", "load", "find",
		"rcu_on", "rcu_off", "bulk", "bstore", "bnull", "bdestroy",
		"destroy", "validate", "findafter", "rlock", "runlock",
		"mset", "mreset", "mpause", "mwalk", "mfind", "mfindrev",
		"mnext", "mprev", "mnextr", "mprevr", "mforeach",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

/* mas_for_each(&rmas, entry, max) for at most @limit entries. */
static void reader_for_each(unsigned long max, unsigned long limit,
			    struct op_result *res)
{
	void *entry;

	res->nseen = 0;
	if (!limit)
		return;
	mas_for_each(&rmas, entry, max) {
		res->seen[res->nseen].entry = entry;
		res->seen[res->nseen].index = rmas.index;
		res->seen[res->nseen].last = rmas.last;
		if (++res->nseen == (int)limit)
			break;
	}
}

/* One call of the reader API on rmas (@name starts with 'm'). */
static const char *reader_call(const char *name, unsigned long *a, int nargs,
			       struct op_result *res)
{
	if (!strcmp(name, "mset") || !strcmp(name, "mreset") ||
	    !strcmp(name, "mpause"))
		res->nseen = -2;	/* they return nothing */
	if (!strcmp(name, "mset"))
		mas_set(&rmas, a[0]);
	else if (!strcmp(name, "mreset"))
		mas_reset(&rmas);
	else if (!strcmp(name, "mpause"))
		mas_pause(&rmas);
	else if (!strcmp(name, "mwalk"))
		res->entry = mas_walk(&rmas);
	else if (!strcmp(name, "mfind"))
		res->entry = mas_find(&rmas, a[0]);
	else if (!strcmp(name, "mfindrev"))
		res->entry = mas_find_rev(&rmas, a[0]);
	else if (!strcmp(name, "mnext"))
		res->entry = mas_next(&rmas, a[0]);
	else if (!strcmp(name, "mprev"))
		res->entry = mas_prev(&rmas, a[0]);
	else if (!strcmp(name, "mnextr"))
		res->entry = mas_next_range(&rmas, a[0]);
	else if (!strcmp(name, "mprevr"))
		res->entry = mas_prev_range(&rmas, a[0]);
	else if (!strcmp(name, "mforeach"))
		reader_for_each(a[0], a[1], res);
	else
		return "unknown operation";
	(void)nargs;
	return NULL;
}

/* The number of arguments of reader call @name. */
static int reader_nargs(const char *name)
{
	if (!strcmp(name, "mforeach"))
		return 2;
	if (!strcmp(name, "mreset") || !strcmp(name, "mpause") ||
	    !strcmp(name, "mwalk"))
		return 0;
	return 1;
}

/* Run reader call @name: inside its own RCU read section unless held. */
static const char *run_reader(const char *name, char *rest,
			      struct op_result *res)
{
	unsigned long a[DRIVER_MAX_ARGS];
	int nargs = reader_nargs(name);
	const char *err;

	if (!parse_args(rest, a, nargs))
		return nargs == 2 ? "needs M K" : nargs ? "needs one number" :
				    "takes no arguments";
	if (!strcmp(name, "mforeach") && a[1] > DRIVER_MAX_SEEN)
		return "K is at most 64";
	res->kind = RET_STATE;
	res->entry = NULL;
	res->nseen = -1;
	rcu_read_lock();
	err = reader_call(name, a, nargs, res);
	rcu_read_unlock();
	return err;
}

/* rlock / runlock: the reader's RCU read section across operations. */
static const char *reader_lock(const char *name, char *rest)
{
	unsigned long a[DRIVER_MAX_ARGS];

	if (!parse_args(rest, a, 0))
		return "takes no arguments";
	if (!strcmp(name, "rlock")) {
		rcu_read_lock();
		reader_locked++;
		return NULL;
	}
	if (!reader_locked)
		return "the reader does not hold the RCU read lock";
	reader_locked--;
	rcu_read_unlock();
	return NULL;
}

/*
 * Run the operation @name with its argument text @rest.  Returns NULL and
 * fills @res, or returns an error message.
 */
static const char *run_op(const char *name, char *rest, struct op_result *res)
{
	unsigned long a[DRIVER_MAX_ARGS];

	res->kind = RET_INT;
	res->ival = 0;
	if (!strcmp(name, "init")) {
		if (!parse_args(rest, a, 1))
			return "init needs F";
		tree_init(a[0]);
		return NULL;
	}
	if (!known_op(name))
		return "unknown operation";
	if (!tree_initialised)
		return "tree not initialised (init F first)";
	if (name[0] == 'm')
		return run_reader(name, rest, res);
	if (!strcmp(name, "rlock") || !strcmp(name, "runlock"))
		return reader_lock(name, rest);

	if (!strcmp(name, "store") || !strcmp(name, "insert")) {
		if (!parse_args(rest, a, 3))
			return "store/insert need A B V";
		if (a[2] > LONG_MAX)
			return "value does not fit in a value entry";
		if (name[0] == 's')
			res->ival = mtree_store_range(&tree, a[0], a[1],
					xa_mk_value(a[2]), GFP_KERNEL);
		else
			res->ival = mtree_insert_range(&tree, a[0], a[1],
					xa_mk_value(a[2]), GFP_KERNEL);
	} else if (!strcmp(name, "null")) {
		if (!parse_args(rest, a, 2))
			return "null needs A B";
		res->ival = mtree_store_range(&tree, a[0], a[1], NULL, GFP_KERNEL);
	} else if (!strcmp(name, "erase") || !strcmp(name, "load")) {
		if (!parse_args(rest, a, 1))
			return "erase/load need A";
		res->kind = RET_ENTRY;
		res->entry = name[0] == 'e' ? mtree_erase(&tree, a[0]) :
					      mtree_load(&tree, a[0]);
	} else if (!strcmp(name, "find") || !strcmp(name, "findafter")) {
		if (!parse_args(rest, a, 2))
			return "find/findafter need A M";
		res->kind = RET_FIND;
		res->index = a[0];
		res->entry = name[4] ? mt_find_after(&tree, &res->index, a[1]) :
				       mt_find(&tree, &res->index, a[1]);
	} else if (!strcmp(name, "rcu_on") || !strcmp(name, "rcu_off")) {
		if (!parse_args(rest, a, 0))
			return "rcu_on/rcu_off take no arguments";
		if (!strcmp(name, "rcu_on"))
			mt_set_in_rcu(&tree);
		else
			mt_clear_in_rcu(&tree);
	} else if (!strcmp(name, "bulk")) {
		if (!parse_args(rest, a, 1))
			return "bulk needs N";
		res->ival = bulk_begin(a[0]);
	} else if (!strcmp(name, "bstore")) {
		if (!parse_args(rest, a, 3))
			return "bstore needs A B V";
		if (a[2] > LONG_MAX)
			return "value does not fit in a value entry";
		res->kind = RET_ENTRY;
		res->entry = bulk_store(a[0], a[1], xa_mk_value(a[2]));
	} else if (!strcmp(name, "bnull")) {
		if (!parse_args(rest, a, 2))
			return "bnull needs A B";
		res->kind = RET_ENTRY;
		res->entry = bulk_store(a[0], a[1], NULL);
	} else if (!strcmp(name, "bdestroy") || !strcmp(name, "destroy") ||
		   !strcmp(name, "validate")) {
		if (!parse_args(rest, a, 0))
			return "bdestroy/destroy/validate take no arguments";
		if (name[0] == 'b')
			bulk_end();
		else if (name[0] == 'd')
			mtree_destroy(&tree);
		else
			mt_validate(&tree);
	} else {
		return "unknown operation";
	}
	return NULL;
}

/* Print a reader call's "<entries>@<index>-<last>/<status>". */
static void put_state(const struct op_result *res)
{
	int i;

	if (res->nseen == -1)
		put_entry(res->entry);
	for (i = 0; i < res->nseen; i++) {
		if (i)
			fputc(',', out);
		put_entry(res->seen[i].entry);
		fprintf(out, "=%lx-%lx", res->seen[i].index, res->seen[i].last);
	}
	fprintf(out, "@%lx-%lx/", rmas.index, rmas.last);
	if (rmas.status < ARRAY_SIZE(status_names))
		fputs(status_names[rmas.status], out);
	else
		fprintf(out, "%u", rmas.status);
}

/* Print the return part of an output line. */
static void put_result(const struct op_result *res)
{
	switch (res->kind) {
	case RET_INT:
		fprintf(out, "%ld", res->ival);
		break;
	case RET_ENTRY:
		put_entry(res->entry);
		break;
	case RET_FIND:
		put_entry(res->entry);
		if (res->entry)
			fprintf(out, "@%lx", res->index);
		break;
	case RET_STATE:
		put_state(res);
		break;
	}
}

/* Handle one input line (without its newline). */
static void handle_line(char *line)
{
	bool full = line_number % dump_every == 0 || line_number >= dump_from;
	struct op_result res;
	const char *err;
	char *name = line, *rest;

	line_number++;
	while (*name == ' ' || *name == '\t')
		name++;
	rest = name;
	while (*rest && *rest != ' ' && *rest != '\t' && *rest != '\r')
		rest++;
	if (*rest)
		*rest++ = '\0';
	if (!*name) {
		fputs("error empty line\n", out);
		fflush(out);
		return;
	}

	if (!strcmp(name, "validate"))
		full = true;
	err = run_op(name, rest, &res);
	if (err) {
		fprintf(out, "error %s: %s\n", name, err);
		fflush(out);
		return;
	}
	driver_rcu_barrier();
	put_result(&res);
	dump_tree(full);
	fflush(out);
}

/* Send the harness's printk output to stderr and keep stdout for us. */
static void setup_output(void)
{
	int fd = dup(STDOUT_FILENO);

	if (fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		perror("driver: dup");
		exit(2);
	}
	out = fdopen(fd, "w");
	if (!out) {
		perror("driver: fdopen");
		exit(2);
	}
}

/* Parse a decimal option value into @val; false if it is not one. */
static bool option_value(const char *arg, unsigned long *val)
{
	char *endp;

	if (!arg || *arg < '0' || *arg > '9')
		return false;
	errno = 0;
	*val = strtoul(arg, &endp, 10);
	return !errno && !*endp;
}

/* Parse the command line: [--every K] [--from P]. */
static void parse_options(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i += 2) {
		if (!strcmp(argv[i], "--every") &&
		    option_value(argv[i + 1], &dump_every) && dump_every)
			continue;
		if (!strcmp(argv[i], "--from") &&
		    option_value(argv[i + 1], &dump_from))
			continue;
		fprintf(stderr, "usage: %s [--every K] [--from P]\n", argv[0]);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	parse_options(argc, argv);
	setup_output();
	maple_tree_init();
	rcu_register_thread();

	while ((len = getline(&line, &cap, stdin)) >= 0) {
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		handle_line(line);
	}
	free(line);

	if (tree_initialised)
		mtree_destroy(&tree);
	driver_rcu_barrier();
	rcu_unregister_thread();
	free(rcu_queue);
	fclose(out);
	return 0;
}
