/*
 * board/platform/free-heap-esp32: the bytes free in the ESP-IDF heap, where the XS heaps
 * grow from and socket buffers come from. Native because the instrumentation module's
 * "System Free Memory" reads nothing in a release (non-instrumented) build.
 */

#include "xsmc.h"
#include "esp_system.h"

void xs_board_free_heap(xsMachine *the)
{
	xsmcSetInteger(xsResult, esp_get_free_heap_size());
}
