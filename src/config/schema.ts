import { z } from 'zod';
import {
  deadLetterSection,
  httpSection,
  limitsSection,
  logSection,
  modelSection,
  pipelineSection,
  replaySection,
  sinkSection,
  sourceSection,
  sqliteSection,
} from './sections/core.js';
import { kafkaSection } from './sections/kafka.js';
import { influxdbSection } from './sections/influxdb.js';
import { xSection } from './sections/x.js';
import { alertsSection } from './sections/alerts.js';

/**
 * The whole configuration, section by section. Each leaf can be set in a config file (YAML or JSON,
 * same nesting), by an environment variable CROWDPULSE_<SECTION>_<KEY> (camelCase → UPPER_SNAKE,
 * e.g. model.maxBatch → CROWDPULSE_MODEL_MAX_BATCH), or by a command-line flag where one exists.
 * Precedence: flag > environment > file > default.
 * Sections of other components are added here explicitly, one line each.
 */
export const configSchema = z.object({
  source: sourceSection,
  replay: replaySection,
  model: modelSection,
  sink: sinkSection,
  sqlite: sqliteSection,
  deadLetter: deadLetterSection,
  limits: limitsSection,
  pipeline: pipelineSection,
  http: httpSection,
  log: logSection,
  kafka: kafkaSection,
  influxdb: influxdbSection,
  x: xSection,
  alerts: alertsSection,
});

export type Config = z.infer<typeof configSchema>;
