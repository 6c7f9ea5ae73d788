/*
 * counters.c - the layout of the shared counters memfd (see counters.h).
 *
 * Slots are whole cache lines apart so that two workers counting at
 * once never write the same line.
 */
#include "alert.h"
#include "counters.h"

#define COUNTERS_LINE	64

/* counters_slot_size - bytes of one worker's slot */
size_t
counters_slot_size(size_t nbackends)
{
	size_t	size = sizeof(struct counters_worker) +
	    nbackends * sizeof(struct counters_backend);

	return (size + COUNTERS_LINE - 1) / COUNTERS_LINE * COUNTERS_LINE;
}

/* counters_size - bytes of a generation's whole memfd */
size_t
counters_size(size_t nworkers, size_t nbackends)
{
	return nworkers * counters_slot_size(nbackends);
}

/* counters_slot - worker index's slot in a mapped memfd */
struct counters_worker *
counters_slot(void *base, size_t nbackends, size_t index)
{
	return (struct counters_worker *)((char *)base +
	    index * counters_slot_size(nbackends));
}

static const uint8_t counters_alerts[COUNTERS_ALERTS] = {
	ALERT_UNEXPECTED_MESSAGE, ALERT_DECODE_ERROR, ALERT_INTERNAL_ERROR,
	ALERT_UNRECOGNIZED_NAME,
};

/* counters_alert_index - where an alert is counted, or -1 */
int
counters_alert_index(uint8_t alert)
{
	int	i;

	for (i = 0; i < COUNTERS_ALERTS; i++)
		if (counters_alerts[i] == alert)
			return i;
	return -1;
}

/* counters_alert_code - the alert counted at index */
uint8_t
counters_alert_code(int index)
{
	return counters_alerts[index];
}
