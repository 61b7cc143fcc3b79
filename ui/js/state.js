// What the signed-in screens share: who is signed in and the classes they may see.

import { call } from './ipc.js';

export const state = {
  me: null,
  classes: [],
  classById: new Map(),
};

export const isLead = () => state.me?.role === 'lead_teacher';

export async function loadClasses() {
  const classes = await call('class_list');
  state.classes = classes;
  state.classById = new Map(classes.map((c) => [c.id, c]));
  return classes;
}

export const fullName = (l) => `${l.family_name}, ${l.given_name}`;
export const displayName = (l) => `${l.given_name} ${l.family_name}`;

// The names of a learner's classes this user can see; classes outside the replica
// (another teacher's) are counted, not named.
export function classNames(learner) {
  const known = learner.classes.map((id) => state.classById.get(id)?.name).filter(Boolean);
  const others = learner.classes.length - known.length;
  if (others > 0) known.push(others === 1 ? '1 other class' : `${others} other classes`);
  return known.join(', ');
}
