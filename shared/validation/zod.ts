// zod/mini is tree-shakable; the classic API pulls every locale into each Lambda bundle (450 KB).
// Schema modules import this file for its one effect: English messages. They import z from
// 'zod/mini' themselves, because re-exporting the namespace would keep all of it in the bundle.

import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());
