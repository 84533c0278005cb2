/*
 * entry_points.c
 *	  Every entry point of DG_ENTRY_POINTS must be exported by the Go core.
 *
 * Taking each one's address makes one that Go does not export an undefined
 * symbol, which -Wl,--no-undefined (main.go) turns into a link error of the
 * Go build instead of a failed dlsym() in a backend.  Nothing reads the
 * table: "used" keeps the compiler from dropping it, and the check with it.
 */
#include "_cgo_export.h"

#define DG_ADDRESS(ret, name, params) (void *) name,
static void *const dg_entry_points[] __attribute__((used)) = {
	DG_ENTRY_POINTS(DG_ADDRESS)
};
