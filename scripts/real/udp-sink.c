/*
 * udp-sink: receive and discard UDP datagrams on one or more ports.
 *
 *   udp-sink PORT...
 *
 * Runs inside the real-kernel harness guest (built static, copied into the
 * initramfs) so that the host's DMA-load packets have a receiver and the
 * guest does not answer them with ICMP port-unreachable.  Prints a count
 * line per port every 1000 datagrams on stderr.  Never exits by itself
 * (the guest crashes or powers off).
 */
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PORTS 8

int main(int argc, char **argv)
{
	struct pollfd pfd[MAX_PORTS];
	unsigned long count[MAX_PORTS] = { 0 };
	int ports[MAX_PORTS];
	int n = argc - 1;
	char buf[65536];

	if (n < 1 || n > MAX_PORTS) {
		fprintf(stderr, "usage: udp-sink PORT... (1..%d ports)\n", MAX_PORTS);
		return 2;
	}
	for (int i = 0; i < n; i++) {
		struct sockaddr_in sa;
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		if (fd < 0) {
			perror("udp-sink: socket");
			return 1;
		}
		ports[i] = atoi(argv[i + 1]);
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_port = htons((unsigned short)ports[i]);
		sa.sin_addr.s_addr = htonl(INADDR_ANY);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			perror("udp-sink: bind");
			return 1;
		}
		pfd[i].fd = fd;
		pfd[i].events = POLLIN;
	}
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) < 0)
			continue;
		for (int i = 0; i < n; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			if (recv(pfd[i].fd, buf, sizeof(buf), 0) >= 0 && ++count[i] % 1000 == 0)
				fprintf(stderr, "udp-sink: port %d: %lu datagrams\n", ports[i], count[i]);
		}
	}
}
