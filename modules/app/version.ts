// The running firmware's version: reported in the birth message and compared by OTA.
export const FIRMWARE_VERSION = "1.0.0";
