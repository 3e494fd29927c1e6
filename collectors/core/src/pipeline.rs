//! Making things on a second thread while this one hands them on.
//!
//! The files collector assembles record batches while the store writes the last one,
//! and the JSON report reads findings from the store while it writes the last ones: in
//! both, the two halves took about as long each, one after the other. Stopping them
//! is the subtle part (which error wins, who waits on whom), so it is written once.

/// Runs `produce` on a second thread, handing each item it makes (through the function
/// it is given) to `consume` on this one, with at most `waiting` items in between.
///
/// Each item goes back to the producer's thread once consumed, and is dropped there:
/// dropping a batch of records (a tree of JSON values each) was a fifth of what the
/// store's thread did per batch, while the producer's thread had time to spare. So at
/// most two more items are alive than `waiting` and the one being consumed. A hand-over
/// gives one of them back to the producer, to fill again instead of making a new one
/// (the JSON report's batches of findings: their strings are reused, not reallocated).
///
/// If `consume` fails, the producer's next hand-over fails with `stopped()`, so it ends
/// instead of waiting forever, and `consume`'s error is returned: the producer's is then
/// only that the consumer stopped. Otherwise what `produce` returns is returned. A panic
/// of the producer is raised again here.
pub fn pipelined<T: Send, R: Send, E: Send>(
    waiting: usize,
    produce: impl FnOnce(&mut dyn FnMut(T) -> Result<Option<T>, E>) -> Result<R, E> + Send,
    stopped: impl Fn() -> E + Send,
    mut consume: impl FnMut(&T) -> Result<(), E>,
) -> Result<R, E> {
    std::thread::scope(|s| {
        let (hand_over, items) = std::sync::mpsc::sync_channel::<T>(waiting);
        // Unbounded, but never holding more than the items in flight.
        let (give_back, consumed_items) = std::sync::mpsc::channel::<T>();
        let producer = s.spawn(move || {
            let produced = produce(&mut |item| {
                let mut consumed = consumed_items.try_iter();
                let reusable = consumed.next();
                consumed.for_each(drop);
                hand_over.send(item).map_err(|_| stopped())?;
                Ok(reusable)
            });
            // Ends the consumer's loop; then the rest come back until it is done.
            drop(hand_over);
            consumed_items.iter().for_each(drop);
            produced
        });
        let consumed = items.iter().try_for_each(|item| {
            consume(&item)?;
            // Fails only once the producer has ended, and then dropping here is all
            // there is left to do.
            let _ = give_back.send(item);
            Ok(())
        });
        // If the consumer stopped early, the producer's next hand-over now fails, and
        // its wait for consumed items ends.
        drop(items);
        drop(give_back);
        let produced = producer.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        consumed?;
        produced
    })
}

#[cfg(test)]
mod tests {
    use super::pipelined;

    type HandOver<'a, T> = &'a mut dyn FnMut(T) -> Result<Option<T>, String>;

    fn counting(up_to: u32) -> impl FnOnce(HandOver<'_, u32>) -> Result<&'static str, String> {
        move |hand_over| {
            for n in 0..up_to {
                hand_over(n)?;
            }
            Ok("made all")
        }
    }

    #[test]
    fn every_item_arrives_in_order_and_the_producer_has_the_last_word() {
        let mut seen = Vec::new();
        let outcome = pipelined(
            1,
            counting(1000),
            || "stopped".to_owned(),
            |&n| {
                seen.push(n);
                Ok(())
            },
        );
        assert_eq!(outcome, Ok("made all"));
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
    }

    /// The producer would wait forever on a full hand-over if the consumer's stopping
    /// did not end it; and the consumer's error is the one returned.
    #[test]
    fn a_consumer_that_fails_stops_the_producer_with_its_own_error() {
        let mut seen = 0;
        let outcome = pipelined(
            1,
            counting(1000),
            || "stopped".to_owned(),
            |&n| {
                seen += 1;
                if n == 10 { Err("disk full".to_owned()) } else { Ok(()) }
            },
        );
        assert_eq!(outcome, Err("disk full".to_owned()));
        assert_eq!(seen, 11);
    }

    #[test]
    fn a_producer_that_fails_is_that_error() {
        let outcome = pipelined(
            1,
            |hand_over: HandOver<'_, u32>| {
                hand_over(1)?;
                Err::<(), _>("bad file".to_owned())
            },
            || "stopped".to_owned(),
            |_| Ok(()),
        );
        assert_eq!(outcome, Err("bad file".to_owned()));
    }

    /// Consumed items come back to the producer to be filled again: with one waiting,
    /// a producer that reuses what it gets back makes only the few in flight.
    #[test]
    fn consumed_items_come_back_to_be_reused() {
        let mut made = 0;
        let mut seen = Vec::new();
        let outcome = pipelined(
            1,
            |hand_over: HandOver<'_, Vec<u32>>| {
                let mut next: Option<Vec<u32>> = None;
                for n in 0..1000 {
                    let mut item = next.take().unwrap_or_else(|| {
                        made += 1;
                        Vec::new()
                    });
                    item.clear();
                    item.push(n);
                    next = hand_over(item)?;
                }
                Ok(made)
            },
            || "stopped".to_owned(),
            |item| {
                seen.extend_from_slice(item);
                Ok(())
            },
        );
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
        let made = outcome.unwrap();
        assert!(made < 1000, "made {made} items for 1000 hand-overs");
    }

    /// Records the thread it was dropped on.
    struct Item(std::sync::Arc<std::sync::Mutex<Vec<std::thread::ThreadId>>>);

    impl Drop for Item {
        fn drop(&mut self) {
            self.0.lock().unwrap().push(std::thread::current().id());
        }
    }

    /// Dropping a consumed item is the producer's work, the last ones' too. When the
    /// consumer fails, every item made is still dropped, once.
    #[test]
    fn consumed_items_are_dropped_on_the_producers_thread() {
        for fail_at in [None, Some(3)] {
            let drops = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let producer = std::sync::Arc::new(std::sync::Mutex::new((None, 0)));
            let (dropped, thread) = (drops.clone(), producer.clone());
            let mut seen = 0;
            let outcome = pipelined(
                1,
                move |hand_over: HandOver<'_, Item>| {
                    thread.lock().unwrap().0 = Some(std::thread::current().id());
                    for _ in 0..10 {
                        thread.lock().unwrap().1 += 1;
                        hand_over(Item(dropped.clone()))?;
                    }
                    Ok(())
                },
                || "stopped".to_owned(),
                |_| {
                    seen += 1;
                    if Some(seen) == fail_at {
                        Err("disk full".to_owned())
                    } else {
                        Ok(())
                    }
                },
            );
            let (producer, made) = *producer.lock().unwrap();
            let producer = producer.unwrap();
            let drops = drops.lock().unwrap();
            assert_ne!(producer, std::thread::current().id());
            assert_eq!(drops.len(), made);
            match fail_at {
                None => {
                    assert_eq!(outcome, Ok(()));
                    assert_eq!(made, 10);
                    assert!(drops.iter().all(|id| *id == producer), "{drops:?}");
                }
                Some(_) => assert_eq!(outcome, Err("disk full".to_owned())),
            }
        }
    }
}
