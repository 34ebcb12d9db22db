#pragma once
// The message format of message-signalled interrupts on this architecture:
// generic PCI code gets an MsiMessage from compose_msi_message() and writes
// it into the device without knowing its bits.

#include <arch/x86_64/lib/msi_message.h>
