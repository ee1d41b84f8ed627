// board/platform/free-heap-esp32: free bytes in the ESP-IDF heap (ESP32 only; native, see free-heap-esp32.js and .c).
export default function freeHeap(): number;
