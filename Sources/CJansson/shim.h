#ifndef INLET_CJANSSON_SHIM_H
#define INLET_CJANSSON_SHIM_H
#include <jansson.h>

/// json_decref and json_incref are static inline in jansson.h; these typed wrappers
/// make the reference counting explicit at the Swift call sites.
static inline void CJansson_decref(json_t *json) { json_decref(json); }
static inline json_t *CJansson_incref(json_t *json) { return json_incref(json); }
static inline int CJansson_typeof(const json_t *json) { return json ? (int)json_typeof(json) : -1; }
static inline int CJansson_object_set_new(json_t *object, const char *key, json_t *value) {
    return json_object_set_new(object, key, value);
}
#endif
