/*
 * Compile-time check, run by `npm run check` (tsconfig.json): every platform variant of
 * a switched module satisfies its contract in types/board/<part>.d.ts. A variant that
 * drops an export or changes a signature fails here, without the SDK; mcconfig would
 * only notice when building that platform. Nothing here runs.
 */

import * as linkEsp32 from "../../modules/board/link/esp32";
import * as linkSim from "../../modules/board/link/sim";
import * as sensorsEsp32 from "../../modules/board/sensors/esp32";
import * as sensorsSim from "../../modules/board/sensors/sim";
import * as pinsEsp32 from "../../modules/board/pins/esp32";
import * as pinsLin from "../../modules/board/pins/lin";
import * as pinsSim from "../../modules/board/pins/sim";
import * as platformEsp32 from "../../modules/board/platform/esp32";
import * as platformSim from "../../modules/board/platform/sim";
import * as otaTargetEsp32 from "../../modules/board/ota-target/esp32";
import * as otaTargetSim from "../../modules/board/ota-target/sim";
import * as storageEsp32 from "../../modules/board/storage/esp32";
import * as storageSim from "../../modules/board/storage/sim";

export const link: typeof import("board/link")[] = [linkEsp32, linkSim];
export const sensors: typeof import("board/sensors")[] = [sensorsEsp32, sensorsSim];
export const pins: typeof import("board/pins")[] = [pinsEsp32, pinsLin, pinsSim];
export const platform: typeof import("board/platform")[] = [platformEsp32, platformSim];
export const otaTarget: typeof import("board/ota-target")[] = [otaTargetEsp32, otaTargetSim];
export const storage: typeof import("board/storage")[] = [storageEsp32, storageSim];
