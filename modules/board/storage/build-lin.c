/*
 * board/storage/build-lin: which simulator build is running (Linux simulator, native).
 *
 * - simulatorBuild() answers "<library path>\n<stamp>": the mc.so that mcsim was started
 *   with (its first argument ending in ".so", from /proc/self/cmdline, made absolute)
 *   and a stamp of that file (modification time, inode, size) that changes whenever
 *   mcconfig links it again. Undefined when mcsim was started without a library path.
 * - Why native: mcsim runs a copy of the library from its config directory, and the
 *   File module cannot read /proc files (it reads st_size bytes, 0 there).
 */

#include "xsmc.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void xs_board_simulator_build(xsMachine *the)
{
	char arguments[8192];
	char library[PATH_MAX];
	char answer[PATH_MAX + 96];
	struct stat info;
	size_t length, at;
	FILE *file = fopen("/proc/self/cmdline", "rb");

	if (!file)
		return;
	length = fread(arguments, 1, sizeof(arguments) - 1, file);
	fclose(file);
	arguments[length] = 0;
	for (at = 0; at < length; at += strlen(arguments + at) + 1) {
		const char *argument = arguments + at;
		size_t size = strlen(argument);
		if ((size < 4) || strcmp(argument + size - 3, ".so"))
			continue;
		if (!realpath(argument, library) || stat(library, &info))
			continue;
		snprintf(answer, sizeof(answer), "%s\n%lld.%09ld-%llu-%lld", library,
			(long long)info.st_mtim.tv_sec, (long)info.st_mtim.tv_nsec,
			(unsigned long long)info.st_ino, (long long)info.st_size);
		xsmcSetString(xsResult, answer);
		return;
	}
}
