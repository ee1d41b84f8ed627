/*
 * board/platform/free-heap-esp32 (ESP32): `freeHeap()` is esp_get_free_heap_size() (native).
 */
function freeHeap() @ "xs_board_free_heap";
export default freeHeap;
