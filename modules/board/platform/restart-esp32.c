/*
 * board/platform/restart-esp32: reboots the chip. The reason for the restart is stored in
 * Preference by the caller beforehand, so the next birth message can report it.
 */

#include "xsmc.h"
#include "esp_system.h"

void xs_board_restart(xsMachine *the)
{
	esp_restart();
}
